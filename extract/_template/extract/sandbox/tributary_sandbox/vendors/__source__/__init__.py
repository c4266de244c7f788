"""__Source__, simulated (made from the project's source template: extract/ADDING-A-SOURCE.md).

Laid out like every vendor in the sandbox (vendors/__init__.py says what each file holds):
data.py the customers made from the shared world, auth.py the API token, api.py the routes and
their paging, control.py the /_sandbox/__source__/ hooks. The sandbox finds this package by name
and serves it: no edit anywhere else.

Faults are the sandbox's shared rules (faults.py), e.g. POST /_sandbox/faults
{"rules": [{"vendor": "__source__", "kind": "status", "status": 500, "count": 2}]}; an injected
status is answered as error_response words it. Served alone (a benchmark):
`python -m tributary_sandbox one __source__ --port 8765 --scale 1`.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ...clock import Clock
from ...faults import Faults
from ...world import World

NAME = "__source__"
API_PATH = f"/{NAME}/v1"        # the tap's api_url in dev: the sandbox's address + this
PATHS = (f"/{NAME}/",)
HOSTS = ()                      # the vendor's real host names, when a client must be reached through the proxy
FAULT_KINDS: dict[str, str] = {}  # faults only this vendor has (none yet): faults.claim(NAME, kind)

from . import api, control  # noqa: E402  (after the names above, which they read)
from .data import Customers  # noqa: E402


class Simulator:
    """The vendor's state: its records (data.py), rebuilt in place on /_sandbox/reset."""

    def __init__(self, world: World, clock: Clock, faults: Faults, state_dir: Path | None = None) -> None:
        self.clock, self.faults = clock, faults
        self.load(world)

    def load(self, world: World) -> None:
        self.world = world
        self.customers = Customers(world)

    def error_response(self, status: int, rule: dict) -> web.Response:
        """An injected status, worded as the vendor words its errors."""
        return api.error(status, "api_error" if status >= 500 else "invalid_request", f"HTTP {status}")

    def mutate(self, **change) -> dict:
        """What a "mutate" fault calls: a change between two pages of one run."""
        return control.mutate(self, **change)


def mount(app: web.Application, simulator: Simulator) -> None:
    api.add_routes(app, simulator)
    control.add_routes(app, simulator)
