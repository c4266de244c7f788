"""The simulated vendors: one package per vendor, all built the same way, all found by name.

Every package in this folder is one vendor's simulator, and the sandbox serves each of them with
no edit anywhere else (`python extract/new_source.py acme` writes `vendors/acme/`; the next
`tributary-sandbox start` serves it). A vendor package has the same five files:

    __init__.py   the contract below: NAME, PATHS, API_PATH, HOSTS, FAULT_KINDS, Simulator, mount
    data.py       the projection of the shared world (world.py) into the vendor's records: what
                  the vendor would hold for this business. No HTTP here.
    auth.py       credentials and tokens, as the vendor issues and checks them
    api.py        the vendor's routes and query semantics: paging, filters, limits, throttling,
                  and errors worded as the vendor words them
    control.py    the /_sandbox/<NAME>/... hooks tests and the demo drive: mutations between
                  runs, knobs (limits, quotas), and the truth a complete copy must equal

The contract, in `__init__.py`:

    NAME          the vendor; its control hooks live under /_sandbox/<NAME>/
    PATHS         path prefixes of its routes on the sandbox's plain port
    API_PATH      a tap's api_url in dev is the sandbox's address + API_PATH (dev_settings.py);
                  None when the tap reaches the vendor's real hosts through the proxy
    HOSTS         the vendor's real host names, served through the sandbox's HTTPS proxy to
                  unmodified clients (".example.com" matches every subdomain); may be empty
    FAULT_KINDS   {kind: what it does} for faults only this vendor knows (a GraphQL THROTTLED
                  answer, a failed bulk job): the vendor's code claims them where they apply,
                  with faults.claim(NAME, kind). The shared kinds are faults.py's.
    Simulator     the vendor's state: Simulator(world, clock, faults, state_dir=None, **options)
                  .load(world)              rebuild in place (POST /_sandbox/reset)
                  .error_response(status, rule)
                                            how the vendor answers an injected status fault
                  .expire_tokens() -> int   (optional) what the "expire_tokens" fault calls
                  .mutate(**change) -> dict (optional) what the "mutate" fault calls
                  .started(base_url)        (optional) called once the server listens
    mount(app, simulator)                   adds its routes (auth, api) and hooks (control)
    instance_options(name) -> dict          (optional) the Simulator options of another business on
                                            this vendor (a second shop's credentials): the sandbox
                                            serves instances only of vendors that have it (app.py)
    serve_instance(default, instance)       (optional) an instance is also reached on the vendor's own
                                            hosts, beside the default one (QuickBooks: by realm id)

Packages whose name starts with "_" are skipped (scratch copies).
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType

PARTS = ("data", "auth", "api", "control")
CONTRACT = ("NAME", "PATHS", "API_PATH", "HOSTS", "FAULT_KINDS", "Simulator", "mount")


def discover() -> dict[str, ModuleType]:
    """{NAME: package} for every vendor package here, in name order (start-up is reproducible).
    A package missing a part of the pattern is refused at start, not at its first request."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or not info.ispkg:
            continue
        package = importlib.import_module(f"{__name__}.{info.name}")
        missing = [name for name in CONTRACT if not hasattr(package, name)]
        missing += [f"{part}.py" for part in PARTS
                    if importlib.util.find_spec(f"{package.__name__}.{part}") is None]
        if missing:
            raise ImportError(f"vendor package {package.__name__} lacks {', '.join(missing)}: "
                              f"see {__name__}'s docstring for what a vendor package holds")
        found[package.NAME] = package
    return found
