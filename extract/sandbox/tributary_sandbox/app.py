"""The aiohttp application: the vendors' routes, the control API (/_sandbox/...) and the request log.

Every vendor is a package in vendors/ (see its docstring for the pattern they all follow), found
by name and mounted here the same way; nothing here names a vendor. Vendor routes are whatever
the simulated vendors serve; control routes all live under /_sandbox/. Both are on the plain HTTP
port; through the proxy the control API is reachable too, which is harmless.

Control API:
  GET    /_sandbox/health                  {"ok": true, seed, scale, mess, today, sandbox_now, ports, vendors}
  POST   /_sandbox/reset                   {seed?, scale?, today?, source_scales?, mess?} rebuild world (as of today
                                           unless `today` says, recorded as the anchor: anchor.py);
                                           faults, tokens, clock, log cleared
  POST   /_sandbox/clock                   {"advance_days": n} | {"advance_seconds": n}; GET shows it
  POST   /_sandbox/faults                  {"rules": [...]} (see faults.py); GET lists; DELETE clears
  GET    /_sandbox/requests?since=N        [{seq, method, host, path, query, status, ms}]
  GET    /_sandbox/truth                   world ground truth (identity map, totals)
  /_sandbox/<vendor>/...                   each vendor's own hooks: vendors/<vendor>/control.py

Instances (several businesses on one vendor: a second shop): `instances` {vendor: [name, ...]}
(`--instances shopify:acme`, SANDBOX_INSTANCES) serves each named instance beside the default one,
under /instances/<name>/: its API (/instances/acme/shopify/...), its hooks
(/instances/acme/_sandbox/shopify/...) and its business's truth (/instances/acme/_sandbox/truth).
Each has a world of its own (the same scale, a seed derived from its name: other customers,
orders and ids that overlap the default's, as two real shops' ids do) and credentials of its own
(the vendor package's `instance_options(name)`); the clock and the fault rules are shared, and a
rule's "vendor" may name one instance ("shopify--acme"). A vendor whose clients cannot be pointed
at another address (QuickBooks: the community tap reaches Intuit's hosts through the proxy) serves
its instances there as the vendor does (`serve_instance`: another company by its realm id and
refresh token); a fault rule for it then reaches every company.
"""
from __future__ import annotations

import collections
import datetime as dt
import hashlib
import itertools
import re
import time
from pathlib import Path

from aiohttp import web

from . import anchor, vendors
from .clock import Clock
from .faults import DROPPED, Faults, Vendor, make_middleware
from .world import build_world

REQUEST_LOG_SIZE = 100_000
VENDORS = vendors.discover()   # {name: package}: every vendor package in vendors/
SOURCES = tuple(VENDORS)


class Sandbox:
    """Everything the running server holds; one instance per process. `only` serves some vendors
    alone (a tap's own tests, a benchmark); `options` are {vendor: keyword arguments} for their
    Simulators."""

    def __init__(self, seed: int, scale: float, today: dt.date, ports: dict | None = None,
                 state_dir: Path | None = None, source_scales: dict | None = None,
                 only: tuple[str, ...] | list[str] | None = None, options: dict | None = None,
                 mess: str = "none", instances: dict[str, list[str]] | None = None) -> None:
        unknown = set(only or ()) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown vendor: {', '.join(sorted(unknown))} (known: {', '.join(SOURCES)})")
        self.names = tuple(name for name in SOURCES if only is None or name in only)
        self.instances = checked_instances(instances or {}, self.names)
        self.state_dir = state_dir  # where files a client needs live (the GA4 service-account key)
        self.clock = Clock()
        self.faults = Faults()
        self.ports = ports or {}
        self.log: collections.deque = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.seq = itertools.count(1)
        self.build(seed, scale, today, source_scales, mess)
        self.simulators: dict = {}   # {name: its Simulator}, mounted by build_app
        for name in self.names:
            package = VENDORS[name]
            simulator = package.Simulator(self.world_of(name), self.clock, self.faults, state_dir,
                                          **(options or {}).get(name, {}))
            self.simulators[name] = simulator
            self.faults.register(Vendor(name, tuple(package.PATHS), tuple(package.HOSTS),
                                        dict(package.FAULT_KINDS), simulator))
        self.instance_simulators: dict = {}   # {(vendor, instance): its Simulator}, under /instances/<instance>/
        for (name, instance), world in self._instance_worlds.items():
            package = VENDORS[name]
            simulator = package.Simulator(world, self.clock, self.faults, state_dir,
                                          **{**(options or {}).get(name, {}), **package.instance_options(instance)})
            simulator.fault_name = f"{name}--{instance}"
            simulator.mounted_at = f"/instances/{instance}"   # the prefix of every path it serves
            self.instance_simulators[(name, instance)] = simulator
            if hasattr(package, "serve_instance"):
                # Reached on the vendor's own hosts (QuickBooks: by realm), where the vendor's own
                # fault rules apply: a rule naming the instance is refused as unknown, not ignored.
                package.serve_instance(self.simulators[name], simulator)
                continue
            self.faults.register(Vendor(simulator.fault_name, tuple(f"/instances/{instance}{p}" for p in package.PATHS),
                                        (), dict(package.FAULT_KINDS), simulator))

    def build(self, seed: int, scale: float, today: dt.date, source_scales: dict | None = None,
              mess: str = "none") -> None:
        """The world, and one per source whose scale differs (`source_scales`, for benchmarks
        that want e.g. many GA4 rows but few Shopify orders). A source on its own scale sees a
        world of its own: its customers no longer match the other sources' one for one. Nothing
        changes unless every world builds (a refused reset leaves the served world as it was)."""
        unknown = set(source_scales or {}) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown source in source_scales: {', '.join(sorted(unknown))} (known: {', '.join(SOURCES)})")
        own_scales = {k: float(v) for k, v in (source_scales or {}).items() if float(v) != scale}
        if any(v <= 0 for v in own_scales.values()):
            raise ValueError("every source scale must be > 0")
        worlds = {scale: build_world(seed, scale, today, mess)}
        for source_scale in own_scales.values():
            if source_scale not in worlds:
                worlds[source_scale] = build_world(seed, source_scale, today, mess)
        self.seed, self.scale, self.today, self.mess = seed, scale, today, mess
        self.source_scales = own_scales
        self.world = worlds[scale]
        self._worlds = {source: worlds[self.source_scales.get(source, scale)] for source in SOURCES}
        self._instance_worlds = {
            (name, instance): build_world(instance_seed(seed, instance), self.source_scales.get(name, scale), today, mess)
            for name, names in self.instances.items() for instance in names}

    def world_of(self, source: str):
        return self._worlds[source]

    def reset(self, seed: int, scale: float, today: dt.date, source_scales: dict | None = None,
              mess: str = "none") -> None:
        self.build(seed, scale, today, source_scales, mess)   # first: a refused world changes nothing
        self.clock.reset()
        self.faults.clear()
        self.log.clear()
        anchor.record(self.state_dir, today, seed, scale, self.source_scales, mess)  # a restart serves this world, not an older one
        for name, simulator in self.simulators.items():
            simulator.load(self.world_of(name))
        for key, simulator in self.instance_simulators.items():
            simulator.load(self._instance_worlds[key])

    def started(self, base_url: str) -> None:
        """The server listens at base_url: vendors that hand clients a file naming it write it now."""
        for simulator in [*self.simulators.values(), *self.instance_simulators.values()]:
            if hasattr(simulator, "started"):
                simulator.started(base_url)


SANDBOX = web.AppKey("sandbox", Sandbox)


def checked_instances(instances: dict[str, list[str]], served: tuple[str, ...]) -> dict[str, list[str]]:
    """{vendor: [instance, ...]}, refused with the reason when a vendor is not served or cannot have
    instances (its package has no `instance_options`), or a name is not lower-case letters and digits."""
    out: dict[str, list[str]] = {}
    for name, names in instances.items():
        if name not in served:
            raise ValueError(f"instances of {name}: not a served vendor (served: {', '.join(served)})")
        if not hasattr(VENDORS[name], "instance_options"):
            raise ValueError(f"instances of {name}: its simulator serves one business only so far "
                             f"(vendors/{name}/__init__.py has no instance_options)")
        for instance in names:
            if not re.fullmatch(r"[a-z][a-z0-9]{0,30}", instance):
                raise ValueError(f"instance name {instance!r}: lower-case letters and digits, starting with a letter")
        out[name] = list(dict.fromkeys(names))
    return out


def instance_seed(seed: int, instance: str) -> int:
    """The seed of an instance's world: the sandbox's, moved by its name (stable across restarts)."""
    return seed + int(hashlib.sha256(instance.encode()).hexdigest()[:8], 16)


def _log_middleware(sb: Sandbox):
    @web.middleware
    async def request_log(request: web.Request, handler):
        t0 = time.perf_counter()
        status = 500
        try:
            resp = await handler(request)
            status = 0 if request.get(DROPPED) else resp.status     # 0 = connection dropped
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
    app = web.Application(middlewares=[_log_middleware(sb), make_middleware(sb.faults)],
                          client_max_size=16 * 1024 * 1024)
    app[SANDBOX] = sb

    async def health(request):
        return web.json_response({"ok": True, "seed": sb.seed, "scale": sb.scale, "source_scales": sb.source_scales,
                                  "mess": sb.mess,
                                  "today": sb.today.isoformat(),
                                  "sandbox_now": sb.clock.now().isoformat(), "ports": sb.ports,
                                  "vendors": list(sb.names), "instances": sb.instances})

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
                     body.get("source_scales"), str(body.get("mess", sb.mess)))
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
    for name, simulator in sb.simulators.items():
        VENDORS[name].mount(app, simulator)
    for instance in sorted({instance for names in sb.instances.values() for instance in names}):
        app.add_subapp(f"/instances/{instance}", instance_app(sb, instance))
    return app


def instance_app(sb: Sandbox, instance: str) -> web.Application:
    """One instance's vendors and its business's truth, mounted under /instances/<instance>/ (the
    parent's middlewares, the request log and the faults, apply)."""
    sub = web.Application(client_max_size=16 * 1024 * 1024)
    simulators = {name: simulator for (name, of), simulator in sb.instance_simulators.items() if of == instance}

    async def truth(request):
        # Every vendor of one instance sees the same business (one seed): any one's world says it.
        return web.json_response(next(iter(simulators.values())).world.truth())

    sub.add_routes([web.get("/_sandbox/truth", truth)])
    for name, simulator in simulators.items():
        VENDORS[name].mount(sub, simulator)
    return sub
