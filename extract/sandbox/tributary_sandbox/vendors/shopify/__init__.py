"""Shopify's Admin GraphQL API, simulated over the world's shop: orders, customers, the catalogue,
inventory, abandoned checkouts (vendors/__init__.py says what each file holds).

data.py the shop's records and GraphQL nodes; connections.py Shopify's cursor paging; auth.py the
access token and the client-credentials grant; api.py the GraphQL endpoint (published schema per
API version, query cost, the throttle, bulk operations, Shopify's error wording); control.py the
/_sandbox/shopify/ hooks. A tap's `api_url` in dev is the sandbox's address + /shopify.

Faults are the sandbox's rules (faults.py): a "status" rule is answered as Shopify words it
(error_response: 429 with Retry-After, 5xx Internal Server Error), and FAULT_KINDS below are
Shopify's own, e.g. POST /_sandbox/faults
{"rules": [{"vendor": "shopify", "kind": "throttled", "count": 2}]}.
Served alone (a benchmark): `python -m tributary_sandbox one shopify --port 8765 --scale 1
--option restore_rate=100`.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp import web

from ...clock import Clock
from ...faults import Faults
from ...world import World

NAME = "shopify"
API_PATH = "/shopify"
PATHS = ("/shopify/",)
HOSTS = (".myshopify.com",)
FAULT_KINDS = {
    "throttled": "the next GraphQL query is answered THROTTLED (HTTP 200, errors[].extensions.code), no points taken",
    "bulk_fail": "the next bulk operation fails after 3 root objects: FAILED, INTERNAL_SERVER_ERROR, a partialDataUrl",
    "bulk_busy": "the next bulkOperationRunQuery finds another operation running (OPERATION_IN_PROGRESS) "
                 "until it has been polled \"polls\" times (default 3)",
}

from . import api, auth, control  # noqa: E402  (after the names above, which they read)
from .data import Shop  # noqa: E402


class Simulator:
    """The shop (data.py), its tokens (auth.py), its cost bucket and bulk operations (api.py).

    Options: `maximum` and `restore_rate`, the cost bucket (points, points/s); `bulk_polls`, how
    many polls a bulk operation takes to report its outcome (also POST /_sandbox/shopify/bulk)."""

    # Shopify's smallest plans restore 100 cost points/s; the sandbox's shop restores 1,000/s
    # (Shopify Plus' rate) so a paged demo backfill takes seconds, not half an hour.
    def __init__(self, world: World, clock: Clock, faults: Faults, state_dir: Path | None = None, *,
                 maximum: float = 2000, restore_rate: float = 1000, bulk_polls: int = 2,
                 access_token: str = auth.ACCESS_TOKEN) -> None:
        self.clock, self.faults = clock, faults
        self.access_token = access_token
        self.fault_name = NAME   # the "vendor" its own fault rules name; another shop's is shopify--<name>
        self.throttle = api.Throttle(maximum, restore_rate)
        self.start_bulk_polls = int(bulk_polls)   # what a reset goes back to, whatever /bulk set since
        # the bulk operations' result files; removed with the simulator (or at exit), never left in /tmp
        self._bulk_files = tempfile.TemporaryDirectory(prefix="shopify-bulk-")
        self.bulk_dir = Path(self._bulk_files.name)
        self.load(world)

    def load(self, world: World) -> None:
        self.world = world
        self.shop = Shop(world, self.clock)
        self.bulk_polls = self.start_bulk_polls
        self.tokens = auth.Tokens(self.clock, self.access_token)
        self.throttle.buckets.clear()
        self.bulk = api.BulkOperations(self)
        self.requests = {"graphql": 0, "token": 0, "bulk_download": 0, "throttled": 0, "bulk_runs": 0}
        self.cost_log: list[dict] = []
        self.base_url = ""   # the address clients reach us at (bulk file URLs), from the last GraphQL request

    def error_response(self, status: int, rule: dict) -> web.Response:
        return api.error_response(status, rule)

    def expire_tokens(self) -> int:
        return self.tokens.expire()

    def mutate(self, **change) -> dict:
        return control.mutate(self, **change)


def instance_options(instance: str) -> dict:
    """Another shop's own credentials (app.py, instances): its Admin API token."""
    return {"access_token": f"shpat_tributary_{instance}_token"}


def mount(app: web.Application, simulator: Simulator) -> None:
    auth.add_routes(app, simulator)
    api.add_routes(app, simulator)
    control.add_routes(app, simulator)
