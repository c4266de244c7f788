"""Attio (the CRM's REST API v2), simulated over the shared world (world.py).

Laid out like every vendor in the sandbox (vendors/__init__.py says what each file holds):
data.py the workspace (objects, lists, their records; notes, tasks, members) made from the
world, auth.py the API key, api.py the routes under /attio/v2 with Attio's paging, filters,
100 reads/s limit and error bodies, control.py the /_sandbox/attio/ hooks (mutations, schema
drift, custom objects and lists, the limiter's switch, counts, truth rows).

Faults are the sandbox's shared rules (faults.py), POST /_sandbox/faults {"rules": [...]}:
  {"vendor": "attio", "kind": "status", "status": 429, "count": 2, "retry_after": 2}
      Attio's rate_limit_error, with a Retry-After date 2 s ahead (default 1)
  {"vendor": "attio", "kind": "status", "status": 500, "count": 3}   its api_error
  {"vendor": "attio", "kind": "drop", "count": 2}                    connection closed, no answer
Served alone (a benchmark): `python -m tributary_sandbox one attio --port 8765 --scale 1`, with
`--option rate_limit_enabled=0` to switch the read limit off.
"""
from __future__ import annotations

import collections
from pathlib import Path

from aiohttp import web

from ...clock import Clock
from ...faults import Faults
from ...world import World

NAME = "attio"
API_PATH = "/attio/v2"          # the tap's api_url in dev: the sandbox's address + this
PATHS = ("/attio/",)
HOSTS = ("api.attio.com",)
FAULT_KINDS: dict[str, str] = {}  # none of its own: its 429s, 5xx and drops are the shared kinds

from . import api, control  # noqa: E402  (after the names above, which they read)
from .auth import API_KEY, api_keys  # noqa: E402
from .data import Workspace, uid  # noqa: E402

__all__ = ["NAME", "API_PATH", "PATHS", "HOSTS", "FAULT_KINDS", "Simulator", "mount", "API_KEY", "uid"]


class Simulator:
    """The Attio workspace the sandbox serves: its data (a data.Workspace), the API keys it
    accepts, its read limit and the per-route request counters. Another workspace (app.py,
    instances) has its own key (`api_key`) and name, and a world of its own."""

    def __init__(self, world: World, clock: Clock, faults: Faults, state_dir: Path | None = None,
                 rate_limit_enabled: bool = True, reads_per_second: int = api.READS_PER_SECOND,
                 api_key: str = API_KEY, workspace_name: str = "Tributary") -> None:
        self.clock, self.faults = clock, faults
        self.api_key, self.workspace_name = api_key, workspace_name
        self.fault_name = NAME   # the "vendor" its own fault rules name; another workspace's is attio--<name>
        self.mounted_at = ""     # its paths' prefix: another workspace is served under /instances/<name> (app.py)
        # The read limit as started (options: `one attio --option rate_limit_enabled=0`); a reload
        # goes back to it, whatever /_sandbox/attio/limits changed since.
        self.limit_settings = {"enabled": bool(rate_limit_enabled), "reads_per_second": int(reads_per_second)}
        self.load(world)

    def load(self, world: World) -> None:
        """(Re)build from `world`: mutations, drift, limit changes and request counts are dropped."""
        self.world = world
        self.workspace = Workspace(world, self.clock)
        self.api_keys = api_keys(self.api_key)
        self.read_limit = api.ReadLimit(**self.limit_settings)
        self.requests: collections.Counter = collections.Counter()   # route name -> count

    def error_response(self, status: int, rule: dict) -> web.Response:
        return api.error_response(status, rule)

    def mutate(self, object: str = "people", **change) -> dict:
        """What a "mutate" fault calls with its "change" (as POST /_sandbox/attio/mutate)."""
        return control.mutate(self, object, **change)


def instance_options(instance: str) -> dict:
    """Another workspace's own credentials (app.py, instances): its API key, and its name."""
    return {"api_key": f"sandbox-attio-{instance}-api-key", "workspace_name": f"Tributary {instance.title()}"}


def mount(app: web.Application, simulator: Simulator) -> None:
    api.add_routes(app, simulator)
    control.add_routes(app, simulator)
