"""Benchmark: bulk vs paged backfill of Shopify orders at 100,000 orders, against the live simulator.

bench/shopify_tap.py records every GraphQL answer so it can replay them (tap vs a bare loop);
that keeps them all in memory, which is fine at 20,000 orders and not at 100,000. This script
measures only the two backfills and keeps one small tuple per order, nothing else:

1. The Shopify simulator (extract/sandbox, tributary_sandbox.vendors.shopify: graphql-core over the
   world's shop) runs in its own process on a free port, at `--orders` orders (seed 42, the same
   world as bench/shopify_tap.py).
2. Two first-time backfills by the tap CLI (`tap-shopify --catalog`, orders selected, no state),
   over real HTTP: `use_bulk: never` (paged queries) and `use_bulk: always` (one bulk operation,
   JSONL download). The tap's stdout is read line by line and dropped; from each RECORD only
   (id, updatedAt, number of line items) is kept. Per run: wall time (process start to exit),
   orders/s, GraphQL requests and cost points (deltas of the simulator's
   GET /_sandbox/shopify/requests), CPU seconds of the tap and of the simulator, load average.
3. Same data both ways: the sorted (id, updatedAt, line items) tuples of both runs hash to the
   same sha256, no id repeats, and orders and line items add up to the simulator's
   GET /_sandbox/shopify/counts. A mismatch exits 1 (after writing the results).
4. Ceilings measured in the same run: for paged, the simulator's own CPU time (the tap waits for
   every answer, so the wall time cannot drop below it); for bulk, a bare `requests` +
   `json.loads` loop over the same JSONL file (the download + parse part of the bulk path).

Pacing: by default the simulator's leaky bucket is wide open (10^9 points, 10^9 points/s), so it
never throttles and the tap's pacing (sleep until the bucket holds a query's requested cost)
never waits: the times are the simulator's and the tap's work. Real Shopify restores 100 points/s
on standard plans and 1,000 on Plus, so a paged backfill there is bound by cost points; the
script prints that bound from the measured actual points. `--restore-rate N` paces the simulator
like Shopify instead (bucket 2,000 points, N points/s) to check that bound on a smaller run.

Run (project venv, `make install`):
    .venv/bin/python bench/shopify_backfill.py --orders 100000     # = make bench-shopify-100k
Not a test: it prints figures and never fails on them; only the same-data check can fail.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

import _stack
from _stack import ROOT
from shopify_tap import ORDERS_PER_SCALE, SEED, TODAY   # also puts extract/sandbox on sys.path

RESULTS = ROOT / "bench" / "results" / "shopify_backfill.json"
WIDE_OPEN = 10 ** 9
PACED_BUCKET = 2000                              # the simulator's default bucket size
SHOPIFY_RESTORE_RATES = {"standard plans": 100, "Shopify Plus": 1000}   # cost points/s


# ---- the simulator, in its own process ------------------------------------------------------------
def serve_simulator(orders: int, port: int, restore_rate: float | None) -> None:
    """Child process: build the world, serve the Shopify routes until SIGTERM, then remove the
    bulk files (a 100k-order JSONL is a few hundred MB in /tmp)."""
    from aiohttp import web
    from tributary_sandbox.app import Sandbox, build_app
    from tributary_sandbox.vendors import shopify

    if restore_rate is None:
        bucket = {"maximum": WIDE_OPEN, "restore_rate": WIDE_OPEN}
    else:
        bucket = {"maximum": PACED_BUCKET, "restore_rate": restore_rate}
    sandbox = Sandbox(SEED, orders / ORDERS_PER_SCALE, TODAY, only=[shopify.NAME], options={shopify.NAME: bucket})
    try:
        web.run_app(build_app(sandbox), host="127.0.0.1", port=port, print=None, access_log=None)
    finally:
        shutil.rmtree(sandbox.simulators[shopify.NAME].bulk_dir, ignore_errors=True)


class Simulator:
    """The Shopify simulator, forked rather than `python -m tributary_sandbox one shopify`
    (_stack.Simulator): the child removes its bulk files when it stops."""

    def __init__(self, orders: int, restore_rate: float | None) -> None:
        port = _stack.free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = multiprocessing.get_context("fork").Process(
            target=serve_simulator, args=(orders, port, restore_rate), daemon=True)
        self.proc.start()
        deadline = time.monotonic() + 600
        while True:
            try:
                self.counts = self.get("counts")
                return
            except requests.ConnectionError:
                if not self.proc.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("the Shopify simulator did not start (see its traceback above)")
                time.sleep(0.5)

    def get(self, what: str) -> dict:
        return requests.get(f"{self.url}/_sandbox/shopify/{what}", timeout=60).json()

    def cpu_s(self) -> float:
        """CPU seconds of the simulator process (all its threads)."""
        return _stack.process_cpu_s(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(30)


# ---- one backfill ---------------------------------------------------------------------------------
def backfill(exe: str, config: dict, catalog: Path, tmp: Path, sim: Simulator) -> dict:
    """Run the tap once; its output is counted and dropped, one (id, updatedAt, lines) kept per order."""
    before, sim_cpu0, tap_cpu0, load0 = sim.get("requests"), sim.cpu_s(), _stack.children_cpu_s(), os.getloadavg()
    keys: list[tuple[str, str, int]] = []

    def keep(line: bytes) -> None:
        record = json.loads(line)["record"]
        keys.append((record["id"], record["updatedAt"], len(record.get("lineItems") or [])))

    with open(tmp / "tap.stderr", "wb") as err:
        run = _stack.run_tap(exe, _stack.write_json(tmp / "config.json", config), catalog, on_record=keep, stderr=err)
    if run.returncode != 0:
        tail = (tmp / "tap.stderr").read_text(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"tap-shopify ({config['use_bulk']}) exited {run.returncode}:\n" + "\n".join(tail))
    wall, t0 = run.seconds_total, run.started
    first, last = run.first_record_at, run.last_record_at
    after, sim_cpu1, tap_cpu1 = sim.get("requests"), sim.cpu_s(), _stack.children_cpu_s()
    keys.sort()
    digest = hashlib.sha256()
    for k in keys:
        digest.update(f"{k[0]}\t{k[1]}\t{k[2]}\n".encode())
    n = len(keys)
    return {
        "orders": n, "distinct_ids": len({k[0] for k in keys}), "line_items": sum(k[2] for k in keys),
        "fingerprint_sha256": digest.hexdigest(),
        "wall_s": round(wall, 1), "orders_s": round(n / wall), "first_record_after_s": round((first or t0) - t0, 1),
        "first_to_last_record_s": round((last or t0) - (first or t0), 1),
        "tap_cpu_s": round(tap_cpu1 - tap_cpu0, 1),
        "simulator_cpu_s": round(sim_cpu1 - sim_cpu0, 1),
        "graphql_requests": after["graphql"] - before["graphql"],
        "throttled": after["throttled"] - before["throttled"],
        "bulk_operations": after["bulk_runs"] - before["bulk_runs"],
        "bulk_downloads": after["bulk_download"] - before["bulk_download"],
        "cost_requested": after["cost_requested"] - before["cost_requested"],
        "cost_actual": after["cost_actual"] - before["cost_actual"],
        "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def bare_bulk_download(sim: Simulator, config: dict) -> dict:
    """Ceiling for the bulk path's download + parse: fetch the same JSONL with requests, json.loads every row."""
    api = f"{config['api_url']}/admin/api/2026-10/graphql.json"
    op = requests.post(api, json={"query": "{ currentBulkOperation { url objectCount } }"},
                       headers={"X-Shopify-Access-Token": config["access_token"]}, timeout=60).json()
    url = op["data"]["currentBulkOperation"]["url"]
    rows = roots = size = 0
    t0 = time.perf_counter()
    with requests.get(url, stream=True, timeout=300) as resp:
        for line in resp.iter_lines(chunk_size=1 << 20):
            if line:
                size += len(line) + 1
                rows += 1
                roots += "__parentId" not in json.loads(line)
    s = time.perf_counter() - t0
    return {"rows": rows, "orders": roots, "bytes": size, "wall_s": round(s, 1), "orders_s": round(roots / s)}


def duration(s: float) -> str:
    return f"{s:.0f} s" if s < 600 else f"{s / 60:,.0f} min"


# ---- main -----------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--restore-rate", type=float, default=None,
                    help="pace the simulator like Shopify (points/s, bucket 2,000); default: bucket wide open")
    ap.add_argument("--tap", default=None, help="tap-shopify executable (default: next to this python)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    exe = _stack.tap_executable("tap-shopify", args.tap)
    t = time.perf_counter()
    sim = Simulator(args.orders, args.restore_rate)
    counts = sim.counts
    print(f"simulator: {counts['orders']:,} orders, {counts['line_items']:,} line items "
          f"(up in {time.perf_counter() - t:.1f} s); bucket "
          + ("wide open" if args.restore_rate is None else f"{PACED_BUCKET} points, {args.restore_rate:g} points/s")
          + f"; load average {os.getloadavg()[0]:.2f}")
    cfg = {"shop": "tributary-sandbox", "access_token": "shpat_tributary_sandbox_token", "api_url": f"{sim.url}/shopify"}
    runs = {}
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            catalog = _stack.write_json(tmp / "catalog.json", _stack.discover_selecting(
                exe, _stack.write_json(tmp / "config.json", {**cfg, "use_bulk": "never"}), {"orders"}))
            for mode, extra in (("paged", {"use_bulk": "never"}),
                                ("bulk", {"use_bulk": "always", "bulk_poll_interval": 0.5})):
                r = runs[mode] = backfill(exe, {**cfg, **extra}, catalog, tmp, sim)
                print(f"{mode}: {r['orders']:,} orders in {r['wall_s']:.1f} s ({r['orders_s']:,} orders/s; first record "
                      f"after {r['first_record_after_s']:.1f} s), {r['graphql_requests']:,} GraphQL requests "
                      f"({r['throttled']} throttled), cost actual {r['cost_actual']:,} / requested "
                      f"{r['cost_requested']:,} points; CPU s: tap {r['tap_cpu_s']}, simulator {r['simulator_cpu_s']}; "
                      f"load average {r['loadavg_before'][0]:.2f} -> {r['loadavg_after'][0]:.2f}")
            bare = bare_bulk_download(sim, cfg)
    finally:
        sim.stop()
    paged, bulk = runs["paged"], runs["bulk"]
    print(f"bulk file, bare requests + json.loads loop: {bare['orders']:,} orders ({bare['rows']:,} rows, "
          f"{bare['bytes'] / 1e6:.0f} MB) in {bare['wall_s']:.1f} s ({bare['orders_s']:,} orders/s); "
          f"the tap emitted them in {bulk['first_to_last_record_s']:.1f} s")
    same = (paged["fingerprint_sha256"] == bulk["fingerprint_sha256"]
            and all(r["orders"] == r["distinct_ids"] == counts["orders"] and r["line_items"] == counts["line_items"]
                    for r in (paged, bulk)))
    print(f"same orders both ways (sha256 of sorted id, updatedAt, line items; = simulator counts): {same}"
          f" [{paged['fingerprint_sha256'][:16]}]")
    bound = {name: round(paged["cost_actual"] / rate) for name, rate in SHOPIFY_RESTORE_RATES.items()}
    print(f"bulk is {paged['wall_s'] / bulk['wall_s']:.1f}x faster here; on Shopify the paged backfill's "
          f"{paged['cost_actual']:,} actual points alone take " + ", ".join(
              f"{duration(s)} at {SHOPIFY_RESTORE_RATES[n]:,} points/s ({n})" for n, s in bound.items()))

    result = {
        **_stack.result_header(args),
        "orders": counts["orders"], "line_items": counts["line_items"],
        "simulator_bucket": ("wide open (never throttles)" if args.restore_rate is None
                             else {"maximum": PACED_BUCKET, "restore_rate": args.restore_rate}),
        "paged": paged, "bulk": bulk, "bulk_file_bare_loop": bare,
        "bulk_speedup": round(paged["wall_s"] / bulk["wall_s"], 2),
        "same_orders_both_ways": same,
        "shopify_paged_cost_bound_s": {f"{n} ({SHOPIFY_RESTORE_RATES[n]} points/s)": s for n, s in bound.items()},
        "note": "Simulator in its own process, tap CLI over HTTP, nothing but one (id, updatedAt, line items) "
                "tuple per order kept. "
                + ("Bucket wide open: the tap's cost pacing never waits, so the times are the simulator's work "
                   "(graphql-core in Python, see simulator_cpu_s) and the tap's. " if args.restore_rate is None else
                   f"Bucket paced like Shopify ({PACED_BUCKET} points, {args.restore_rate:g} points/s): the paged "
                   "time should be (cost_actual - bucket) / restore rate, with no THROTTLED answer. ")
                + "On Shopify the paged time is at least cost_actual / restore rate (shopify_paged_cost_bound_s); "
                "a bulk operation costs 10 points plus 1 per poll.",
    }
    _stack.write_results(result, args.out)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
