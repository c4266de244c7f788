"""The SDK private methods our taps rely on are the pinned SDK's, and they are used nowhere else.

When this fails after an SDK upgrade: read the changed method, re-check what RELIED_ON says we
rely on in tributary_tap_support/sdk_private.py (and the code there that stands in for it), run
each tap's suite (their test_sdk_fast_path.py compares the fast and the stock path), then record
the new signature and hash. Until then the taps can run with `sdk_fast_path: false`.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from pathlib import Path

import pytest
from singer_sdk import Tap
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams import RESTStream, Stream

from tributary_tap_support import sdk_private

EXTRACT = Path(__file__).resolve().parents[2]
# The SDK's private attributes (set in __init__, so not found on its classes) a tap could reach for.
PRIVATE_ATTRIBUTES = {"_tap", "_stream_version", "_config", "_schema", "_mask", "_state_manager"}


def sdk_object(name: str) -> object:
    module, qualified = name.split(":")
    found: object = importlib.import_module(module)
    for part in qualified.split("."):
        found = getattr(found, part)
    return found


@pytest.mark.parametrize("name", sorted(sdk_private.RELIED_ON))
def test_each_sdk_private_we_rely_on_is_as_pinned(name):
    signature, digest, relied_on = sdk_private.RELIED_ON[name]
    recheck = f"re-check what sdk_private.py relies on: {relied_on}; then update RELIED_ON[{name!r}]"
    try:
        found = sdk_object(name)
    except (ImportError, AttributeError):
        pytest.fail(f"the installed singer-sdk has no {name}: {recheck}")
    assert str(inspect.signature(found)) == signature, f"the signature of {name} changed: {recheck}"
    assert hashlib.sha256(inspect.getsource(found).encode()).hexdigest() == digest, \
        f"the source of {name} changed: {recheck}"


def sdk_private_names() -> set[str]:
    names = set(PRIVATE_ATTRIBUTES)
    for cls in (Stream, RESTStream, Tap, PluginBase):
        for klass in cls.__mro__:
            if klass.__module__.startswith("singer_sdk"):
                names |= {n for n in vars(klass) if n.startswith("_") and not n.startswith("__")}
    return names


def our_tap_sources() -> list[Path]:
    """The modules of our Singer SDK taps (the packages that import singer_sdk) and of tap-support."""
    packages = [*EXTRACT.glob("tap-*/tap_*"), *EXTRACT.glob("_template/extract/tap-*/tap_*"),
                EXTRACT / "tap-support" / "tributary_tap_support"]
    sdk_packages = [package for package in packages
                    if any("singer_sdk" in path.read_text() for path in package.rglob("*.py"))]
    return [path for package in sdk_packages for path in package.rglob("*.py") if path.name != "sdk_private.py"]


def test_no_tap_uses_an_sdk_private_outside_sdk_private_py():
    names = sdk_private_names()
    pattern = re.compile(r"\b(?:def |\.)(_[a-z][a-z0-9_]*)\b")
    found = [f"{path.relative_to(EXTRACT)}:{number}: {line.strip()}"
             for path in our_tap_sources()
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if any(name in names for name in pattern.findall(line))]
    assert our_tap_sources() and not found, "SDK private names used outside sdk_private.py:\n" + "\n".join(found)


def test_every_sdk_private_sdk_private_py_touches_is_pinned():
    used = set(re.findall(r"\b(?:super\(\)|stream|self)\.(_[a-z][a-z0-9_]*)\(", inspect.getsource(sdk_private)))
    used |= set(re.findall(r"\bdef (_[a-z][a-z0-9_]*)\(", inspect.getsource(sdk_private)))
    pinned = {name.rsplit(".", 1)[-1] for name in sdk_private.RELIED_ON}
    assert used <= pinned, f"used but not in RELIED_ON: {sorted(used - pinned)}"
