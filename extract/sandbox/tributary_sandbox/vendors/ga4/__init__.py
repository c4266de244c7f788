"""Google Analytics 4 Data API v1beta, simulated over the shared world (`world.py`).

Two properties of the world's web traffic (data.py), the reports Google's Data API answers over
them (reports.py, served by api.py with the properties' quotas), the service account and OAuth
client that get access tokens (auth.py), and the hooks that change the data between runs
(control.py). A tap's api_url is the sandbox's address + `/ga4`; its service-account key file is
written to the state dir as ga4-service-account.json once the server listens.
"""
from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

from aiohttp import web


NAME = "ga4"
PATHS = ("/ga4/",)
API_PATH = "/ga4"
HOSTS = ("analyticsdata.googleapis.com", "oauth2.googleapis.com")
FAULT_KINDS: dict[str, str] = {}
KEY_FILE = "ga4-service-account.json"   # in the state dir: the key tap-ga4 reads in dev (meltano.yml)

from . import api, auth, control  # noqa: E402  (after the names above, which they read)
from .api import Quota, injected_error  # noqa: E402
from .auth import Auth  # noqa: E402
from .data import PROPERTIES, Sessions, instance_properties  # noqa: E402
from .reports import OTHER_ROW_LIMIT, Reports  # noqa: E402


class Simulator:
    """The simulated GA4 properties: their sessions, reports, quotas and tokens. `other_row_limit`
    is the "(other)" row threshold a reset returns to (0: never fold; benchmarks). Another business
    (app.py, instances) has properties of its own and a service account of its own, whose key
    file is `key_file` in the state dir: a token of one reads none of the other's properties."""

    def __init__(self, world, clock, faults, state_dir: Path | None = None,
                 other_row_limit: int = OTHER_ROW_LIMIT, properties: dict | None = None,
                 key_file: str = KEY_FILE) -> None:
        self.clock, self.faults = clock, faults
        self.properties = properties or PROPERTIES
        self.fault_name = NAME   # the "vendor" its own fault rules name; another business's is ga4--<name>
        self.mounted_at = ""     # its paths' prefix: another business is served under /instances/<name> (app.py)
        self.key_path = Path(state_dir) / key_file if state_dir else None
        self.initial_other_row_limit = int(other_row_limit)
        self.requests: collections.Counter = collections.Counter()
        self.auth = Auth(self.now, self.requests, self.key_path)   # its signing key outlives a reset
        self.load(world)

    def load(self, world) -> None:
        """Rebuild from `world`: revision, quota, tokens, counters and the owner's settings cleared."""
        self.world = world
        self.requests.clear()
        self.auth.clear_tokens()
        self.data = Sessions(world, self.properties)
        self.reports = Reports(self.data, self.initial_other_row_limit)
        self.quota = Quota(self.now, self.properties)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def started(self, base_url: str) -> None:
        """Write the service-account key file, its token_uri naming this server."""
        if self.key_path is not None:
            self.auth.write_service_account_key(self.key_path, base_url + self.mounted_at)

    def expire_tokens(self) -> int:
        """Every issued access token expires now (clients must fetch a new one)."""
        return self.auth.expire_tokens()

    def error_response(self, status: int, rule: dict) -> web.Response:
        return injected_error(status)


def instance_options(instance: str) -> dict:
    """Another business's own properties and service-account key file (app.py, instances)."""
    return {"properties": instance_properties(instance), "key_file": f"ga4-service-account-{instance}.json"}


def mount(app: web.Application, simulator: Simulator) -> None:
    auth.add_routes(app, simulator)
    api.add_routes(app, simulator)
    control.add_routes(app, simulator)
