"""The aiohttp application: vendor routes, the control API (/_sandbox/...) and the request log.

Vendor routes and control routes are kept apart: vendor routes are whatever the simulated
vendors serve (QuickBooks now); control routes all live under /_sandbox/. Both are on the plain
HTTP port; through the proxy the control API is reachable too, which is harmless.

Control API:
  GET    /_sandbox/health                  {"ok": true, seed, scale, today, sandbox_now, ports}
  POST   /_sandbox/reset                   {seed?, scale?, today?, source_scales?} rebuild world (as of today
                                           unless `today` says, recorded as the anchor: anchor.py);
                                           faults, tokens, clock, log cleared
  POST   /_sandbox/clock                   {"advance_days": n} | {"advance_seconds": n}; GET shows it
  POST   /_sandbox/faults                  {"rules": [...]} (see faults.py); GET lists; DELETE clears
  GET    /_sandbox/requests?since=N        [{seq, method, host, path, query, status, ms}]
  GET    /_sandbox/truth                   world ground truth (identity map, totals)
  /_sandbox/quickbooks/...                 see quickbooks.py (throttle, mutate, edit, revoke, truth,
                                           truth/profit-and-loss, tokens, tokens/age)
  /_sandbox/attio/...                      see attio.py (mutate, attributes, faults, reset, counts, requests)
  /_sandbox/ga4/...                        see ga4.py (service-account-key, restate, sessions, quota, faults, counts, …)
  /_sandbox/shopify/...                    see shopify.py (counts, truth, mutate, edit, faults, throttle, tokens/expire, …)
  /_sandbox/<name>/...                     each source added from the template: see simulators/<name>.py

Sources added from the template (extract/ADDING-A-SOURCE.md) are not listed here: every module in
simulators/ is found by name and mounted (simulators/__init__.py), so adding one needs no edit here.
"""
from __future__ import annotations

import collections
import datetime as dt
import itertools
import time
from pathlib import Path

from aiohttp import web

from . import anchor, attio, ga4, shopify, simulators
from .clock import Clock
from .faults import Faults, make_middleware
from .quickbooks import QuickBooksSim
from .world import build_world

REQUEST_LOG_SIZE = 100_000
SOURCES = ("quickbooks", "attio", "ga4", "shopify")
GA4_KEY_FILE = "ga4-service-account.json"  # the sandbox's service-account key, for tap-ga4 in dev


class Sandbox:
    """Everything the running server holds; one instance per process."""

    def __init__(self, seed: int, scale: float, today: dt.date, ports: dict | None = None,
                 state_dir: Path | None = None, source_scales: dict | None = None) -> None:
        self.state_dir = state_dir  # where files a client needs live (the GA4 service-account key)
        self.clock = Clock()
        self.faults = Faults()
        self.ports = ports or {}
        self.log: collections.deque = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.seq = itertools.count(1)
        self.build(seed, scale, today, source_scales)
        self.quickbooks = QuickBooksSim(self.world_of("quickbooks"), self.clock, state_dir)
        self.attio = None  # set by build_app: the Attio simulator keeps its state on the app
        self.ga4 = None    # likewise
        self.shopify = None
        self.added: dict = {}  # the template-made simulators (simulators/), by name; set by build_app

    def build(self, seed: int, scale: float, today: dt.date, source_scales: dict | None = None) -> None:
        """The world, and one per source whose scale differs (`source_scales`, for benchmarks
        that want e.g. many GA4 rows but few Shopify orders). A source on its own scale sees a
        world of its own: its customers no longer match the other sources' one for one."""
        unknown = set(source_scales or {}) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown source in source_scales: {', '.join(sorted(unknown))} (known: {', '.join(SOURCES)})")
        self.seed, self.scale, self.today = seed, scale, today
        self.source_scales = {k: float(v) for k, v in (source_scales or {}).items() if float(v) != scale}
        if any(v <= 0 for v in self.source_scales.values()):
            raise ValueError("every source scale must be > 0")
        self.world = build_world(seed, scale, today)
        worlds = {scale: self.world}
        for source_scale in self.source_scales.values():
            if source_scale not in worlds:
                worlds[source_scale] = build_world(seed, source_scale, today)
        self._worlds = {source: worlds[self.source_scales.get(source, scale)] for source in SOURCES}

    def world_of(self, source: str):
        return self._worlds[source]

    def reset(self, seed: int, scale: float, today: dt.date, source_scales: dict | None = None) -> None:
        self.clock.reset()
        self.faults.clear()
        self.log.clear()
        self.build(seed, scale, today, source_scales)
        anchor.record(self.state_dir, today, seed, scale, self.source_scales)  # a restart serves this world, not an older one
        self.quickbooks.load(self.world_of("quickbooks"))
        if self.attio is not None:
            self.attio.load(self.world_of("attio"))
        if self.ga4 is not None:
            self.ga4.load(self.world_of("ga4"))
        if self.shopify is not None:
            self.shopify.load(self.world_of("shopify"))
        for simulator in self.added.values():
            simulator.load(self.world)


def _log_middleware(sb: Sandbox):
    @web.middleware
    async def request_log(request: web.Request, handler):
        t0 = time.perf_counter()
        status = 500
        try:
            resp = await handler(request)
            status = 0 if request.get("dropped") else resp.status     # 0 = connection dropped
            return resp
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if not request.path.startswith("/_sandbox/requests"):
                sb.log.append({"seq": next(sb.seq), "method": request.method, "host": request.host,
                               "path": request.path, "query": request.query_string, "status": status,
                               "ms": round((time.perf_counter() - t0) * 1000, 2)})
    return request_log


def build_app(sb: Sandbox) -> web.Application:
    # Order: log outermost (sees faults too), then faults, then the handler.
    app = web.Application(middlewares=[_log_middleware(sb), make_middleware(sb.faults, sb.clock)],
                          client_max_size=16 * 1024 * 1024)
    app["sandbox"] = sb

    async def health(request):
        return web.json_response({"ok": True, "seed": sb.seed, "scale": sb.scale, "source_scales": sb.source_scales,
                                  "today": sb.today.isoformat(),
                                  "sandbox_now": sb.clock.now().isoformat(), "ports": sb.ports})

    async def body_of(request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"error": "body must be JSON"}', content_type="application/json")
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}', content_type="application/json")
        return data

    async def reset(request):
        body = await body_of(request)
        try:
            # From scratch: as of today (the clock's date), not the anchor the sandbox started on.
            today = dt.date.fromisoformat(body["today"]) if body.get("today") else anchor.pretend_today()
            sb.reset(int(body.get("seed", sb.seed)), float(body.get("scale", sb.scale)), today,
                     body.get("source_scales"))
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return await health(request)

    async def clock(request):
        if request.method == "POST":
            body = await body_of(request)
            sb.clock.advance(float(body.get("advance_days", 0)) * 86400 + float(body.get("advance_seconds", 0)))
        return web.json_response({"sandbox_now": sb.clock.now().isoformat(),
                                  "offset_seconds": sb.clock.offset.total_seconds()})

    async def faults(request):
        if request.method == "DELETE":
            sb.faults.clear()
        elif request.method == "POST":
            body = await body_of(request)
            try:
                sb.faults.set(list(body.get("rules", [])))
            except ValueError as err:
                return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"rules": sb.faults.rules})

    async def requests_(request):
        since = int(request.query.get("since", 0))
        return web.json_response([e for e in sb.log if e["seq"] > since])

    async def truth(request):
        return web.json_response(sb.world.truth())

    app.add_routes([
        web.get("/_sandbox/health", health), web.post("/_sandbox/reset", reset),
        web.get("/_sandbox/clock", clock), web.post("/_sandbox/clock", clock),
        web.get("/_sandbox/faults", faults), web.post("/_sandbox/faults", faults), web.delete("/_sandbox/faults", faults),
        web.get("/_sandbox/requests", requests_), web.get("/_sandbox/truth", truth),
    ])
    app.add_routes(sb.quickbooks.control_routes())
    app.add_routes(sb.quickbooks.routes())        # vendor routes
    sb.attio = attio.add_routes(app, sb.world_of("attio"), sb.clock)   # /attio/v2/...
    attio.add_control_routes(app)                          # /_sandbox/attio/...
    key_path = sb.state_dir / GA4_KEY_FILE if sb.state_dir else None
    sb.ga4 = ga4.add_routes(app, sb.world_of("ga4"), sb.clock, key_path=key_path)   # /ga4/...
    ga4.add_control_routes(app)                            # /_sandbox/ga4/...
    # Shopify's smallest plans restore 100 cost points/s; the sandbox's shop restores 1,000/s
    # (Shopify Plus' rate) so a paged demo backfill takes seconds, not half an hour.
    sb.shopify = shopify.add_routes(app, sb.world_of("shopify"), sb.clock, restore_rate=1000)   # /shopify/...
    shopify.add_control_routes(app)                        # /_sandbox/shopify/...
    sb.added = simulators.mount_all(app, sb.world, sb.clock)   # /<name>/... for each simulators/<name>.py
    # what an "expire_tokens" fault rule calls (read at fire time: resets replace the vendors' state)
    sb.faults.token_expirers = {"quickbooks": lambda: sb.quickbooks.tokens.expire_access(),
                                "ga4": lambda: app[ga4.APP_KEY].expire_tokens(),
                                "shopify": lambda: sb.shopify.expire_tokens()}
    # what a "mutate" fault rule calls: a change in the middle of a run (between two pages)
    sb.faults.mutators = {"attio": lambda **change: attio.mutate(app, **change),
                          "shopify": lambda **change: sb.shopify.mutate(**change)}
    return app
