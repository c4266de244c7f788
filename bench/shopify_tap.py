"""Benchmark: tap-shopify's records/s against a bare requests+json loop over the same pages,
cost points per 1,000 orders, and bulk vs paged backfill time.

1. Record: the Shopify simulator (extract/sandbox, tributary_sandbox.vendors.shopify) runs in this
   process at `--orders` orders with the bucket wide open; one paged `tap-shopify` run (orders only)
   goes through it and every GraphQL request/response pair is recorded. Cost points come from the
   simulator's extensions.cost (what Shopify would charge).
2. Replay: a plain aiohttp server answers each recorded request body with its recorded bytes, so
   neither side below pays for the simulator's graphql-core execution. Alternating, `--runs`
   times each:
     * ceiling: a bare `requests` + `json.loads` loop POSTing exactly the recorded bodies in order;
     * tap: `tap-shopify --catalog` (orders selected, use_bulk never), stdout read and counted here.
   Records/s for both = orders / wall time of the loop (tap: first to last RECORD line, and end
   to end); sampled RECORDs are checked against the SCHEMA the tap sent (jsonschema).
3. Bulk vs paged: against the live simulator, one paged and one bulk backfill of the same
   orders (tap CLI, end to end), wall time each. The simulator's bucket is wide open for this
   (with Shopify's real 100-1,000 points/s the paged figure is bounded by cost, not by code).

Run (tap venv from extract/tap-shopify/README.md):
    .venv/bin/python bench/shopify_tap.py [--orders 20000] [--runs 3]
The replay keeps every recorded answer in memory, so stay near 20,000 orders here; the
100,000-order bulk vs paged backfill is bench/shopify_backfill.py (`make bench-shopify-100k`).
Not a test: it prints figures and never fails on them.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

import _stack
from _stack import ROOT

sys.path.insert(0, str(ROOT / "extract" / "sandbox"))
RESULTS = ROOT / "bench" / "results" / "shopify_tap.json"
ORDERS_PER_SCALE = 3000     # world.py: orders = round(3000 * scale)
SEED, TODAY = 42, dt.date(2026, 11, 25)          # the world both Shopify benchmarks read

from aiohttp import web  # noqa: E402
from tributary_sandbox.app import Sandbox, build_app  # noqa: E402
from tributary_sandbox.vendors import shopify  # noqa: E402
from tributary_sandbox.vendors.shopify.auth import ACCESS_TOKEN  # noqa: E402
from tributary_sandbox.vendors.shopify.data import SHOP  # noqa: E402


class Server:
    def __init__(self, app: web.Application) -> None:
        self.app, self.port = app, _stack.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(app, access_log=None)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
            ready.set()
            self.loop.run_forever()
        threading.Thread(target=run, daemon=True).start()
        ready.wait(30)


def run_tap(exe: str, config: dict, catalog: Path, tmp: Path) -> dict:
    """One run of the tap; orders/s from its first to its last RECORD, and end to end."""
    run = _stack.run_tap(exe, _stack.write_json(tmp / "config.json", config), catalog)
    span = run.last_record_at - run.first_record_at if run.records > 1 else 0.0
    return {"records": run.records, "records_s": (run.records - 1) / span if span else 0.0,
            "end_to_end_s": run.seconds_total, "schema": run.schema, "samples": run.samples, "rc": run.returncode}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tap", default=None, help="tap-shopify executable (default: next to this python)")
    args = ap.parse_args()
    exe = _stack.tap_executable("tap-shopify", args.tap)
    scale = args.orders / ORDERS_PER_SCALE
    t = time.perf_counter()
    sandbox = Sandbox(SEED, scale, TODAY, only=[shopify.NAME],
                      options={shopify.NAME: {"maximum": 10**9, "restore_rate": 10**9}})   # bucket wide open
    app = build_app(sandbox)
    recorded: dict[str, bytes] = {}
    order: list[bytes] = []

    @web.middleware
    async def record(request, handler):
        body = await request.read()
        resp = await handler(request)
        if request.path.endswith("graphql.json"):
            recorded[hashlib.sha1(body).hexdigest()] = resp.body
            order.append(body)
        return resp
    app.middlewares.append(record)
    sim = Server(app)
    sb = sandbox.simulators[shopify.NAME]
    n_orders = len(sb.shop.orders)
    print(f"simulator: {n_orders} orders, {sum(len(r.lines) for r in sb.shop.orders)} line items "
          f"(built in {time.perf_counter() - t:.1f} s)")
    base_cfg = {"shop": SHOP, "access_token": ACCESS_TOKEN, "use_bulk": "never"}

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cfg = {**base_cfg, "api_url": f"{sim.url}{shopify.API_PATH}"}
        catalog = _stack.write_json(tmp / "catalog.json", _stack.discover_selecting(
            exe, _stack.write_json(tmp / "config.json", cfg), {"orders"}))

        # 1. paged backfill through the live simulator (records the pages)
        recorded.clear(), order.clear(), sb.cost_log.clear()
        paged = run_tap(exe, cfg, catalog, tmp)
        cost_req = sum(c["requested"] for c in sb.cost_log)
        cost_act = sum(c["actual"] for c in sb.cost_log)
        requests_paged = len(sb.cost_log)
        bodies = list(order)
        print(f"paged backfill (live simulator): {paged['records']} orders in {paged['end_to_end_s']:.1f} s, "
              f"{requests_paged} requests, cost requested {cost_req}, actual {cost_act} "
              f"({cost_act * 1000 / max(1, paged['records']):.0f} points per 1,000 orders)")

        # 3. bulk backfill of the same orders
        sb.requests["bulk_runs"] = 0
        bulk = run_tap(exe, {**cfg, "use_bulk": "always", "bulk_poll_interval": 0.5}, catalog, tmp)
        print(f"bulk backfill (live simulator): {bulk['records']} orders in {bulk['end_to_end_s']:.1f} s "
              f"(bulk runs: {sb.requests['bulk_runs']})")

        # 2. replay: bare loop vs tap over the same recorded pages
        replay = web.Application(client_max_size=64 * 1024 * 1024)

        async def answer(request):
            body = await request.read()
            hit = recorded.get(hashlib.sha1(body).hexdigest())
            if hit is None:
                return web.json_response({"errors": "not recorded"}, status=500)
            return web.Response(body=hit, content_type="application/json")
        replay.add_routes([web.post("/shopify/admin/api/{v}/graphql.json", answer)])
        rep = Server(replay)
        url = f"{rep.url}/shopify/admin/api/2026-10/graphql.json"
        rcfg = {**base_cfg, "api_url": f"{rep.url}/shopify"}
        ceil_runs, tap_runs, e2e_runs = [], [], []
        ok = True
        for _ in range(args.runs):
            s = requests.Session()
            t0 = time.perf_counter()
            n = 0
            for b in bodies:
                data = json.loads(s.post(url, data=b, headers={"Content-Type": "application/json",
                                                                "X-Shopify-Access-Token": "x"}).content)
                n += len(((data.get("data") or {}).get("orders") or {}).get("nodes") or [])
            ceil_runs.append(n / (time.perf_counter() - t0))
            r = run_tap(exe, rcfg, catalog, tmp)
            tap_runs.append(r["records_s"])
            e2e_runs.append(r["records"] / r["end_to_end_s"])
            ok = (ok and r["records"] == paged["records"]
                  and _stack.check_schema(r["schema"], r["samples"], "id")["mismatches"] == 0)
        ceiling, tap_rs, e2e = statistics.median(ceil_runs), statistics.median(tap_runs), statistics.median(e2e_runs)
        print(f"replay ({len(bodies)} recorded requests): ceiling {ceiling:,.0f} orders/s, tap {tap_rs:,.0f} orders/s "
              f"({tap_rs / ceiling:.0%}), tap end to end {e2e:,.0f} orders/s; records match schema: {ok}")

    result = {
        **_stack.result_header(args),
        "orders": n_orders,
        "line_items": sum(len(r.lines) for r in sb.shop.orders),
        "replay": {"requests": len(bodies), "ceiling_orders_s": round(ceiling), "tap_orders_s": round(tap_rs),
                   "tap_vs_ceiling": round(tap_rs / ceiling, 3), "tap_end_to_end_orders_s": round(e2e),
                   "runs": args.runs, "ceiling_runs": [round(x) for x in ceil_runs],
                   "tap_runs": [round(x) for x in tap_runs], "records_match_schema": ok},
        "cost": {"requests": requests_paged, "requested_points": cost_req, "actual_points": cost_act,
                 "actual_points_per_1000_orders": round(cost_act * 1000 / max(1, paged["records"])),
                 "requests_per_1000_orders": round(requests_paged * 1000 / max(1, paged["records"]), 1)},
        "backfill_live_simulator_s": {"paged": round(paged["end_to_end_s"], 1), "bulk": round(bulk["end_to_end_s"], 1),
                                      "paged_records": paged["records"], "bulk_records": bulk["records"]},
        "note": "Live-simulator times are dominated by the simulator (graphql-core executing every field in "
                "Python); the bucket was wide open. On Shopify the paged backfill is bounded by cost points: "
                "actual_points_per_1000_orders / restore rate (100-1,000 points/s by plan).",
    }
    _stack.write_results(result, RESULTS)


if __name__ == "__main__":
    main()
