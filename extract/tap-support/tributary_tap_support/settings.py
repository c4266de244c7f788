"""Number and list settings that arrive as text, turned into what the plugin's schema wants.

meltano.yml declares these settings without a Meltano `kind`: Meltano's own cast of a value
that does not parse (TAP_ATTIO_PAGE_SIZE=many) ends in a traceback that never names the setting.
So a setting variable reaches the plugin as text ("300", '["people"]') and is converted here, or
named in one line with its fix. The one converter of every plugin of ours: the taps (their
config_jsonschema), the QuickBooks wrapper, the loader's wrapper and dbt's wrapper (each a small
schema of its number settings). Standard library only: it is installed beside each of them.
"""
from __future__ import annotations

import json
import math
import os
import re
import shlex
import typing as t
from decimal import Decimal

WHOLE_NUMBER = re.compile(r"[+-]?\d+")


def as_the_running_extractor(text: str, plugin: str, extractor: str | None = None) -> str:
    """`text`, which names `plugin`'s setting variables (TAP_X_API_KEY) and commands (meltano config
    tap-x), as those of the extractor Meltano runs (MELTANO_EXTRACTOR_NAME, or `extractor`). An
    inherited extractor, tap-x--acme (another business), is set through TAP_X__ACME_API_KEY: a
    hint naming the parent's variable would send the user to the first business's setting."""
    extractor = os.environ.get("MELTANO_EXTRACTOR_NAME", "") if extractor is None else extractor
    if not extractor.startswith(plugin + "--"):
        return text

    def variable(name: str) -> str:
        return name.upper().replace("-", "_")

    text = re.sub(rf"\b{variable(plugin)}_(?=[A-Z])", variable(extractor) + "_", text)
    return re.sub(rf"\bmeltano config {re.escape(plugin)} ", f"meltano config {extractor} ", text)


def _types(prop: dict) -> set[str]:
    kind = prop.get("type") or []
    return {kind} if isinstance(kind, str) else set(kind)


def typed_settings(config: dict, schema: dict, plugin: str, examples: dict[str, str] | None = None,
                   notes: dict[str, str] | None = None) -> list[str]:
    """Convert text values of number and list settings in `config` (in place).

    `schema` is JSON schema ({"properties": {name: {"type": "integer", "minimum": 1, ...}}});
    an empty text for a number or a list means unset (removed, so the default applies).
    Returns one line per value that cannot be converted or is out of range, naming the setting
    variable (<PLUGIN>_<NAME>, Meltano's), the value, what the setting is for (`notes`) and a
    command that fixes it. Secret settings are never echoed (none is a number or a list anyway).
    """
    errors = []
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        if value is None or prop.get("secret"):
            continue
        types = _types(prop)
        if (isinstance(value, str) and not value.strip() and types & {"integer", "number", "array"}
                and name not in (schema.get("required") or [])):
            del config[name]   # unset: the default applies (a required one stays, to be named below)
            continue
        example = (examples or {}).get(name) or _example(prop)
        variable = f"{plugin.upper().replace('-', '_')}_{name.upper()}"
        note = f" ({notes[name]})" if notes and name in notes else ""
        fix = f"set it to e.g. {example} (meltano config {plugin} set {name} {shlex.quote(example)})"
        try:
            config[name] = _convert(value, types, prop)
        except ValueError as what:
            errors.append(f"{variable}={value!r} is not {what}{note}: {fix}")
            continue
        number = config[name]
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            if "minimum" in prop and number < prop["minimum"]:
                errors.append(f"{variable}={value!r} is below {prop['minimum']}, the least allowed{note}: {fix}")
            elif "maximum" in prop and number > prop["maximum"]:
                errors.append(f"{variable}={value!r} is above {prop['maximum']}, the most allowed{note}: {fix}")
    return errors


def _convert(value: t.Any, types: set[str], prop: dict) -> t.Any:  # noqa: ANN401
    if "integer" in types:
        if isinstance(value, str):
            if not WHOLE_NUMBER.fullmatch(value.strip()):
                raise ValueError("a whole number")
            return int(value)
        if isinstance(value, (float, Decimal)) and math.isfinite(value) and value == int(value):
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):   # true, 2.5, [5], {...}
            raise ValueError("a whole number")
    elif "number" in types:
        if isinstance(value, str):
            try:
                value = float(value) if not WHOLE_NUMBER.fullmatch(value.strip()) else int(value)
            except ValueError:
                raise ValueError("a number") from None
        # (the SDK reads a config file's decimals as Decimal)
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not math.isfinite(value):
            raise ValueError("a number")   # float() takes "nan" and "inf": no setting means them
        return value
    elif "array" in types:
        return _list(value, prop)
    return value


def _list(value: t.Any, prop: dict) -> list:  # noqa: ANN401
    """A JSON list; for a list of strings also a bare value or comma-separated values (a single
    GA4 property id typed as 412345678 means the list of that one id)."""
    of_strings = "string" in _types(prop.get("items") or {})
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text)
        except ValueError:
            if not of_strings or text.startswith("["):
                raise ValueError("a JSON list") from None
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list):
        if not of_strings or isinstance(value, (dict, bool)) or value is None:
            raise ValueError("a list")
        value = [value]
    if of_strings:
        return [str(item) if isinstance(item, (int, float)) and not isinstance(item, bool) else item
                for item in value]
    return value


def _example(prop: dict) -> str:
    if "default" in prop and prop["default"] is not None:
        return json.dumps(prop["default"]) if isinstance(prop["default"], list) else str(prop["default"])
    if "array" in _types(prop):
        return '["..."]'
    return str(prop.get("minimum", 1))
