"""Simulators of the sources added from the template (extract/ADDING-A-SOURCE.md), found by name.

Every module in this package is one vendor's simulator, and the sandbox serves every one of them
with no edit to app.py: `python extract/new_source.py acme` writes `simulators/acme.py` and the
next `tributary-sandbox start` serves it. A simulator module defines:

    NAME                               the vendor; its API lives under /<NAME>/ and its control
                                       hooks under /_sandbox/<NAME>/
    PREFIX                             the API's base path (/<NAME>/v1): the tap's api_url in dev
                                       and in the tests is the sandbox's address + PREFIX
    add_routes(app, world, clock)      mounts the API; returns the simulator's state, whose
                                       `load(world)` rebuilds it when /_sandbox/reset is called
    add_control_routes(app)            mounts its /_sandbox/<NAME>/... hooks

The shared fault rules (faults.py) reach it by vendor name: {"vendor": NAME, "kind": "status", …}.
Modules whose name starts with "_" are skipped (scratch files, helpers).
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any


def discover() -> list[ModuleType]:
    """Every simulator module in this package, in name order (so start-up is reproducible)."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for needed in ("NAME", "PREFIX", "add_routes", "add_control_routes"):
            if not hasattr(module, needed):
                raise ImportError(f"simulator module {module.__name__} has no {needed}: "
                                  f"see {__name__}'s docstring for what a simulator defines")
        found.append(module)
    return found


def mount_all(app: Any, world: Any, clock: Any) -> dict[str, Any]:
    """Mount every discovered simulator on `app`; returns {name: state} for resets."""
    states = {}
    for module in discover():
        states[module.NAME] = module.add_routes(app, world, clock)
        module.add_control_routes(app)
    return states
