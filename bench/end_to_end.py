"""End to end: a full sync of every source, loaded and modelled, then a no-change run.

    .venv/bin/python bench/end_to_end.py [--scales quickbooks=60,attio=250,ga4=4,shopify=3]
                                         [--ga4-properties 2] [--mode sequential|concurrent]

Starts a warehouse and a sandbox of its own (free ports, under .bench-e2e/: bench/_stack.py), so
it disturbs neither the demo nor the tests. Each source's sandbox world has its own scale
(the sandbox's `--source-scales`), to make a realistic mix: many GA4 report rows and CRM
records, QuickBooks transactions, fewer but heavy Shopify orders (line items nested in them).

Phases, each timed, all through real `meltano run` into the real warehouse:
  1. full sync: `meltano run tap-<source> target-postgres` for the four sources, one after the
     other (`--mode sequential`) or all at once (`--mode concurrent`);
  2. modelling: `meltano run dbt:seed dbt:run` (every source's models and the cross-source ones);
  3. a no-change incremental run of the four sources (same world, Meltano state kept): rows the
     loader received and API requests, per stream;
  4. Meltano's overhead: the no-change QuickBooks run under `meltano run` against the same tap
     piped into the same target by hand (medians of 3), as bench/quickbooks.py measures it.

Where the time goes: CPU seconds of the pipeline's processes (Meltano, taps, targets, dbt), of
the sandbox and of PostgreSQL, against the wall time x cores the machine offers; per source the
tap's and the loader's CPU, and how long the loader ran on after the tap's last record.

Prints the figures and writes bench/results/end_to_end.json (or --out).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg

import _stack
from _stack import ROOT, BIN, CpuSampler, PrivateStack
from quickbooks import meltano_overhead

RUN_DIR = ROOT / ".bench-e2e"
SOURCES = ("quickbooks", "attio", "ga4", "shopify")
GA4_PROPERTIES = ["412345678", "412345679"]
DEFAULT_SCALES = "quickbooks=60,attio=250,ga4=4,shopify=3"  # ~1.1M records, measured
FIVE_MINUTES = 300


def env(stack: PrivateStack, ga4_properties: int) -> dict[str, str]:
    """The private stack's environment, reading one or both of the sandbox's GA4 properties."""
    return {**stack.env(), "TAP_GA4_PROPERTY_IDS": json.dumps(GA4_PROPERTIES[:ga4_properties])}


# -- the sandbox's request log ------------------------------------------------------------------
def source_of(entry: dict) -> str | None:
    """Which vendor a logged request went to (QuickBooks arrives through the TLS proxy)."""
    path = entry["path"]
    if path.startswith("/_sandbox"):
        return None
    for source in ("attio", "ga4", "shopify"):
        if path.startswith(f"/{source}/"):
            return source
    return "quickbooks"


def endpoint_of(entry: dict) -> str:
    """A request's endpoint with ids folded, so requests group by what they read."""
    path = re.sub(r"/[0-9a-f]{8}-[0-9a-f-]{27,}", "/{id}", entry["path"])
    path = re.sub(r"/properties/\d+", "/properties/{id}", path)
    path = re.sub(r"/company/\d+", "/company/{realm}", path)
    path = re.sub(r"/bulk/[0-9a-f]+\.jsonl", "/bulk/{key}.jsonl", path)
    return f"{entry['method']} {path}"


def request_log(stack: PrivateStack, since: int) -> list[dict]:
    return stack.sandbox("GET", f"/_sandbox/requests?since={since}", timeout=600)


def last_seq(stack: PrivateStack) -> int:
    log = request_log(stack, 0)
    return log[-1]["seq"] if log else 0


def vendor_counters(stack: PrivateStack) -> dict:
    """The simulators' own accounting: GA4 quota tokens, Shopify cost points."""
    return {"ga4": stack.sandbox("GET", "/_sandbox/ga4/counts"), "shopify": stack.sandbox("GET", "/_sandbox/shopify/requests")}


def postmaster_pid(stack: PrivateStack) -> int:
    for line in (stack.run_dir / "warehouse").rglob("postmaster.pid"):
        return int(line.read_text().splitlines()[0])
    raise RuntimeError("the warehouse's postmaster.pid was not found")


# -- Meltano ------------------------------------------------------------------------------------
def meltano_run(args: list[str], e: dict, log_name: str) -> subprocess.Popen:
    logf = open(RUN_DIR / "logs" / f"{log_name}.log", "w")
    return subprocess.Popen([str(BIN / "meltano"), "run", *args], cwd=ROOT, env=e, stdin=subprocess.DEVNULL,
                            stdout=logf, stderr=subprocess.STDOUT)


def parse_run_log(log_name: str) -> dict:
    """Records the loader counted per stream, and when the tap and the loader finished."""
    text = (RUN_DIR / "logs" / f"{log_name}.log").read_text(errors="replace")
    loaded: dict[str, int] = collections.Counter()
    tap_done = target_done = None
    for line in text.splitlines():
        stamp = line[:27]
        if "target-postgres" in line and '"record_count"' in line:
            metric = json.loads(line[line.index("{"):])
            loaded[metric["tags"]["stream"]] += metric["value"]
        if re.match(r"\S+ \[[a-z ]+\] tap-", line):
            tap_done = stamp  # the tap's last log line
        if "target-postgres" in line and "completed processing" in line:
            target_done = stamp
    lag = None
    if tap_done and target_done:
        lag = round((dt.datetime.fromisoformat(target_done.rstrip("Z")) - dt.datetime.fromisoformat(tap_done.rstrip("Z"))).total_seconds(), 1)
    return {"records_by_stream": dict(sorted(loaded.items())), "records": sum(loaded.values()),
            "loader_ran_on_after_tap_s": lag}


def run_sources(mode: str, e: dict, label: str) -> dict:
    """Extract and load every source; per source: wall time, records, CPU by role."""
    out: dict[str, dict] = {}
    started_all = time.perf_counter()

    def start(source: str):
        proc = meltano_run([f"tap-{source}", "target-postgres"], e, f"{label}-{source}")
        return proc, CpuSampler(proc.pid), time.perf_counter()

    def finish(source: str, proc, sampler, started) -> None:
        code = proc.wait()
        out[source] = {"wall_s": round(time.perf_counter() - started, 1), "exit_code": code,
                       "cpu_s": sampler.totals(), **parse_run_log(f"{label}-{source}")}
        print(f"  {source}: {out[source]['records']:,} records in {out[source]['wall_s']} s", flush=True)
        if code != 0:
            print(f"  {source}: meltano run failed (exit {code}); see {RUN_DIR / 'logs' / f'{label}-{source}.log'}")

    if mode == "sequential":
        for source in SOURCES:
            finish(source, *start(source))
    else:
        running = {source: start(source) for source in SOURCES}
        while running:  # each source's time ends when its own run does
            for source in [s for s, (proc, *_rest) in running.items() if proc.poll() is not None]:
                finish(source, *running.pop(source))
            time.sleep(0.2)
    return {"wall_s": round(time.perf_counter() - started_all, 1), "sources": out}


def table_rows(stack: PrivateStack) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with psycopg.connect(**stack.warehouse) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables "
                              "where table_schema like 'raw\\_%' and table_type = 'BASE TABLE' order by 1, 2").fetchall()
        for schema, table in tables:
            out.setdefault(schema.removeprefix("raw_"), {})[table] = conn.execute(
                f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    return out


def requests_between(stack: PrivateStack, since: int) -> dict[str, dict]:
    by_source: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for entry in request_log(stack, since):
        source = source_of(entry)
        if source:
            by_source[source][endpoint_of(entry)] += 1
    return {s: {"total": sum(c.values()), "by_endpoint": dict(c.most_common())} for s, c in sorted(by_source.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default=DEFAULT_SCALES, help=f"per-source sandbox scales (default {DEFAULT_SCALES})")
    parser.add_argument("--ga4-properties", type=int, default=2, choices=(1, 2))
    parser.add_argument("--mode", choices=("sequential", "concurrent"), default="concurrent")
    parser.add_argument("--skip-overhead", action="store_true", help="skip Meltano's overhead measurement")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "end_to_end.json"))
    args = parser.parse_args()
    scales = {k: float(v) for k, v in (p.split("=") for p in args.scales.split(","))}
    print(f"building the sandbox's worlds ({args.scales}) …", flush=True)
    with _stack.private_stack(RUN_DIR, "--scale", "1", "--source-scales", args.scales) as stack:
        e = env(stack, args.ga4_properties)
        (RUN_DIR / "logs").mkdir()
        with psycopg.connect(**stack.warehouse) as conn:
            machine = _stack.machine_facts(postgresql=conn.execute("show server_version").fetchone()[0])
        subprocess.run([str(BIN / "meltano"), "state", "list"], cwd=ROOT, env=e, capture_output=True)  # creates meltano.db
        sandbox_pid = int((RUN_DIR / "sandbox" / "sandbox.pid").read_text())
        pg_pid = postmaster_pid(stack)
        children_cpu0 = _stack.children_cpu_s()
        sandbox_cpu0, pg_cpu0 = _stack.process_cpu_s(sandbox_pid), _stack.process_cpu_s(pg_pid)
        seq0, counters0 = last_seq(stack), vendor_counters(stack)
        print(f"full sync ({args.mode}) …", flush=True)
        full = run_sources(args.mode, e, "full")
        full_requests, counters1 = requests_between(stack, seq0), vendor_counters(stack)
        print("modelling: meltano run dbt:seed dbt:run …", flush=True)
        started = time.perf_counter()
        proc = meltano_run(["dbt:seed", "dbt:run"], e, "dbt")
        sampler = CpuSampler(proc.pid)
        dbt_code = proc.wait()
        dbt_phase = {"wall_s": round(time.perf_counter() - started, 1), "exit_code": dbt_code, "cpu_s": sampler.totals()}
        print(f"  dbt: {dbt_phase['wall_s']} s (exit {dbt_code})")
        children_cpu1 = _stack.children_cpu_s()
        sandbox_cpu1, pg_cpu1 = _stack.process_cpu_s(sandbox_pid), _stack.process_cpu_s(pg_pid)
        rows, line_items = table_rows(stack), line_items_loaded(stack)

        print("no-change incremental run …", flush=True)
        seq2 = last_seq(stack)
        incremental = run_sources("sequential", e, "incremental")
        incremental_requests = requests_between(stack, seq2)
        overhead = {} if args.skip_overhead else meltano_overhead(stack, repeat=3)

    return report(args, scales, machine, full, full_requests, dbt_phase, rows, line_items, incremental,
                  incremental_requests, overhead, counters0, counters1,
                  {"pipeline": round(children_cpu1 - children_cpu0, 1),
                   "sandbox": round(sandbox_cpu1 - sandbox_cpu0, 1), "postgresql": round(pg_cpu1 - pg_cpu0, 1)})


def report(args, scales, machine, full, full_requests, dbt_phase, rows, line_items, incremental,
           incremental_requests, overhead, counters0, counters1, cpu) -> int:
    records = sum(v["records"] for v in full["sources"].values())
    total_s = round(full["wall_s"] + dbt_phase["wall_s"], 1)
    ga4_tokens = sum(counters1["ga4"]["tokens_charged"].values()) - sum(counters0["ga4"]["tokens_charged"].values())
    shopify_points = counters1["shopify"]["cost_actual"] - counters0["shopify"]["cost_actual"]
    orders = full["sources"]["shopify"]["records_by_stream"].get("orders", 0)
    per_source = {}
    for source, run in full["sources"].items():
        made = full_requests.get(source, {}).get("total", 0)
        per_source[source] = {
            "scale": scales.get(source, 1.0), "records": run["records"], "extract_load_s": run["wall_s"],
            "records_per_s": round(run["records"] / run["wall_s"]) if run["wall_s"] else None,
            "api_requests": made,
            "api_requests_per_1000_records": round(made / run["records"] * 1000, 2) if run["records"] else None,
            "cpu_s": run["cpu_s"], "loader_ran_on_after_tap_s": run["loader_ran_on_after_tap_s"],
            "records_by_stream": run["records_by_stream"], "rows_in_warehouse": rows.get(source, {}),
            "requests_by_endpoint": full_requests.get(source, {}).get("by_endpoint", {}),
        }
    cores = machine["cores"]
    result = {
        **_stack.result_header(args),
        "machine": {**machine, "load_average_at_end": _stack.load_average()},
        "records_loaded": records,
        "full_sync_and_models_s": total_s,
        "ceiling_s": FIVE_MINUTES,
        "within_ceiling": total_s <= FIVE_MINUTES and records >= 1_000_000,
        "records_per_s_end_to_end": round(records / total_s),
        "extract_load_s": full["wall_s"],
        "dbt_seed_and_run_s": dbt_phase["wall_s"],
        "dbt_exit_code": dbt_phase["exit_code"],
        "cpu_s": {**cpu, "dbt_phase_by_role": dbt_phase["cpu_s"],
                  "available_core_s": round(total_s * cores, 1),
                  "note": "pipeline = Meltano, taps, targets, dbt (this script's children); sandbox and "
                          "postgresql measured on their own processes"},
        "ga4_quota_tokens_per_1000_rows": round(ga4_tokens / full["sources"]["ga4"]["records"] * 1000, 2)
        if full["sources"]["ga4"]["records"] else None,
        "ga4_quota_tokens": ga4_tokens,
        "shopify_cost_points_per_1000_orders": round(shopify_points / orders * 1000, 1) if orders else None,
        "shopify_cost_points": shopify_points,
        "shopify_line_items_nested_in_orders": line_items,
        "sources": per_source,
        "no_change_incremental": {
            "wall_s": incremental["wall_s"],
            "sources": {source: {"wall_s": run["wall_s"], "rows_moved": run["records"],
                                 "rows_moved_by_stream": run["records_by_stream"],
                                 "api_requests": incremental_requests.get(source, {}).get("total", 0),
                                 "requests_by_endpoint": incremental_requests.get(source, {}).get("by_endpoint", {})}
                        for source, run in incremental["sources"].items()},
        },
        "meltano_overhead": overhead,
    }
    print(f"\nrecords loaded: {records:,} in {total_s} s (extract+load {full['wall_s']} s, dbt {dbt_phase['wall_s']} s); "
          f"ceiling {FIVE_MINUTES} s at >= 1,000,000 records: {'met' if result['within_ceiling'] else 'NOT met'}")
    print(f"CPU seconds: pipeline {cpu['pipeline']}, sandbox {cpu['sandbox']}, postgresql {cpu['postgresql']} "
          f"of {round(total_s * cores)} available ({cores} cores)")
    for source, figures in per_source.items():
        print(f"  {source:<10} {figures['records']:>9,} records {figures['extract_load_s']:>7} s "
              f"{figures['records_per_s'] or 0:>7,}/s  {figures['api_requests_per_1000_records']} req/1k  "
              f"cpu {figures['cpu_s']}  loader after tap {figures['loader_ran_on_after_tap_s']} s")
    print(f"GA4 quota tokens per 1,000 rows: {result['ga4_quota_tokens_per_1000_rows']}; "
          f"Shopify cost points per 1,000 orders: {result['shopify_cost_points_per_1000_orders']}")
    for source, figures in result["no_change_incremental"]["sources"].items():
        print(f"  no-change {source:<10} {figures['rows_moved']:>8,} rows moved, {figures['api_requests']} requests, "
              f"{figures['wall_s']} s")
    print(f"Meltano overhead per run: {overhead.get('meltano_overhead_s')} s")
    _stack.write_results(result, Path(args.out))
    return 0 if full_ok(full) and dbt_phase["exit_code"] == 0 else 1


def full_ok(full: dict) -> bool:
    return all(run["exit_code"] == 0 for run in full["sources"].values())


def line_items_loaded(stack: PrivateStack) -> int:
    """Shopify line items arrive nested in their orders (jsonb[] or jsonb, by loader)."""
    with psycopg.connect(**stack.warehouse) as conn:
        kind = conn.execute("select data_type from information_schema.columns where table_schema = 'raw_shopify' "
                            "and table_name = 'orders' and column_name = 'lineItems'").fetchone()
        if kind is None:
            return 0
        length = 'cardinality("lineItems")' if kind[0] == "ARRAY" else 'jsonb_array_length("lineItems")'
        return int(conn.execute(f"select coalesce(sum({length}), 0) from raw_shopify.orders").fetchone()[0])


if __name__ == "__main__":
    sys.exit(main())
