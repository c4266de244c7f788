"""__Source__'s API, simulated (made from the project's source template: extract/ADDING-A-SOURCE.md).

Serves under /__source__/v1, with the bearer token `sandbox-__source__-token`:

    GET /customers?updated_since=<ISO 8601>&limit=<1..100, default 100>&cursor=<opaque>
        → {"data": [customer, …], "next_cursor": "<opaque>" | null}
          oldest updated_at first (ties by id); updated_since is inclusive
    401 {"error": {"type": "unauthorized", "message": …}}     no or wrong token
    400 {"error": {"type": "invalid_request", "message": …}}  a bad parameter

Faults: the sandbox's shared rules (faults.py), by vendor name, e.g. POST /_sandbox/faults
{"rules": [{"vendor": "__source__", "kind": "status", "status": 500, "count": 2}]}; `make_app`
mounts the same middleware for the tap's own tests.

Control hooks under /_sandbox/__source__:
    GET  records   every record the API holds (the ground truth tests compare with)
    POST mutate    {"update": n, "create": n}: change n records and add n, stamped now
    POST reset     back to the world's records

The customers are the shared world's people (world.py): the same people the other systems know,
with a status and a lifetime value of this source's own. Replace the shape with your vendor's as
its API reference documents it (field names, paging, error bodies, limits).
"""
from __future__ import annotations

import base64
import bisect
import datetime as dt
from typing import Any

from aiohttp import web

from ..clock import Clock
from ..faults import Faults, make_middleware
from ..world import World

NAME = "__source__"
PREFIX = f"/{NAME}/v1"
API_TOKEN = f"sandbox-{NAME}-token"
PAGE_MAX = 100


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class __Source__Sandbox:
    """The records the API serves, and the changes tests make to them."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.clock = clock
        self.load(world)

    def load(self, world: World) -> None:
        """One customer per person of the world; deterministic for a seed."""
        self.world = world
        r = world.rng(NAME)
        last_moment = dt.datetime.combine(world.today, dt.time(), dt.timezone.utc) - dt.timedelta(seconds=1)
        self.records: dict[str, dict] = {}
        self._sorted: tuple[list, list] | None = None   # (records, keys) in API order; None = stale
        for person in world.people:
            # Last changed somewhere between creation and yesterday, most of them long ago.
            span = max(0, int((last_moment - person.created).total_seconds()))
            updated = person.created + dt.timedelta(seconds=int(span * r.random() ** 3))
            company = world.companies[person.company].domain if person.company is not None else None
            self.add({
                "id": f"cus_{person.idx:06d}",
                "name": f"{person.first} {person.last}",
                "email": person.email,
                "company_domain": company,
                "status": "churned" if r.random() < 0.12 else "active",
                "lifetime_value": f"{r.randrange(0, 500_000) / 100:.2f}",
                "created_at": stamp(person.created),
                "updated_at": stamp(updated),
            })

    def add(self, record: dict) -> None:
        self.records[record["id"]] = record
        self._sorted = None

    def in_api_order(self) -> tuple[list[dict], list[tuple]]:
        """Records by (updated_at, id), sorted once per change: a page costs a bisect, so a
        benchmark measures the client, not this server."""
        if self._sorted is None:
            rows = sorted(self.records.values(), key=lambda rec: (rec["updated_at"], rec["id"]))
            self._sorted = (rows, [(rec["updated_at"], rec["id"]) for rec in rows])
        return self._sorted

    def page(self, since: str | None, cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
        """Keyset paging on (updated_at, id): stable even while records change between pages."""
        rows, keys = self.in_api_order()
        start = bisect.bisect_left(keys, (stamp(parse_stamp(since)), "")) if since else 0
        if cursor:
            after = tuple(base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1))
            start = max(start, bisect.bisect_right(keys, after))
        page = rows[start:start + limit]
        more = start + limit < len(rows)
        next_cursor = (base64.urlsafe_b64encode(f"{page[-1]['updated_at']}|{page[-1]['id']}".encode()).decode()
                       if more and page else None)
        return page, next_cursor

    def mutate(self, update: int = 0, create: int = 0) -> dict:
        """Change the first `update` records (by id) and add `create` new ones, all stamped now."""
        now = stamp(self.clock.now())
        updated = []
        for record_id in sorted(self.records)[:update]:
            record = self.records[record_id]
            record["status"] = "churned" if record["status"] == "active" else "active"
            record["lifetime_value"] = f"{float(record['lifetime_value']) + 10:.2f}"
            record["updated_at"] = now
            updated.append(record_id)
        self._sorted = None
        created = []
        for _ in range(create):
            record_id = f"cus_{900_000 + len(self.records):06d}"
            self.add({"id": record_id, "name": f"New Customer {len(self.records)}",
                      "email": f"new{len(self.records)}@example.com", "company_domain": None,
                      "status": "active", "lifetime_value": "0.00", "created_at": now, "updated_at": now})
            created.append(record_id)
        return {"updated": updated, "created": created}


APP_KEY = web.AppKey(NAME, __Source__Sandbox)


def _error(status: int, type_: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": type_, "message": message}}, status=status)


def add_routes(app: web.Application, world: World, clock: Clock | None = None) -> __Source__Sandbox:
    """Mount the API under PREFIX; the state lives at app[APP_KEY]."""
    state = __Source__Sandbox(world, clock or Clock())
    app[APP_KEY] = state

    async def customers(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {API_TOKEN}":
            return _error(401, "unauthorized", "Invalid or missing API token." if auth else
                          "Send the API token as 'Authorization: Bearer <token>'.")
        query = request.query
        try:
            limit = int(query.get("limit", PAGE_MAX))
            if not 1 <= limit <= PAGE_MAX:
                raise ValueError(f"limit must be between 1 and {PAGE_MAX}")
            if query.get("updated_since"):
                parse_stamp(query["updated_since"])
            page, next_cursor = state.page(query.get("updated_since"), query.get("cursor"), limit)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, "invalid_request", str(exc))
        return web.json_response({"data": page, "next_cursor": next_cursor})

    app.router.add_get(PREFIX + "/customers", customers)
    return state


def add_control_routes(app: web.Application, prefix: str = f"/_sandbox/{NAME}") -> None:
    async def records(request: web.Request) -> web.Response:
        return web.json_response(sorted(app[APP_KEY].records.values(), key=lambda rec: rec["id"]))

    async def mutate(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        return web.json_response(app[APP_KEY].mutate(int(body.get("update", 0)), int(body.get("create", 0))))

    async def reset(request: web.Request) -> web.Response:
        app[APP_KEY].load(app[APP_KEY].world)
        return web.json_response({"reset": True, "records": len(app[APP_KEY].records)})

    app.router.add_get(prefix + "/records", records)
    app.router.add_post(prefix + "/mutate", mutate)
    app.router.add_post(prefix + "/reset", reset)


FAULTS_KEY = web.AppKey(f"{NAME}_faults", Faults)


def make_app(world: World, clock: Clock | None = None) -> web.Application:
    """This simulator alone, with the shared fault middleware (app[FAULTS_KEY]): the tap's tests."""
    clock = clock or Clock()
    faults = Faults()
    app = web.Application(middlewares=[make_middleware(faults, clock)])
    app[FAULTS_KEY] = faults
    add_routes(app, world, clock)
    add_control_routes(app)
    return app


def main(argv: list | None = None) -> None:
    """`python -m tributary_sandbox.simulators.__source__ --port 8765 --scale 1` serves __Source__ alone
    (the benchmark starts it so)."""
    import argparse

    from ..world import build_world
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--today", default="2026-11-25")
    args = parser.parse_args(argv)
    app = make_app(build_world(args.seed, args.scale, dt.date.fromisoformat(args.today)))
    web.run_app(app, host=args.host, port=args.port, access_log=None,
                print=lambda *_: print(f"__source__ simulator on http://{args.host}:{args.port}{PREFIX}", flush=True))


if __name__ == "__main__":
    main()
