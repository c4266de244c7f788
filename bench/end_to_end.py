"""End to end, as production runs it: every job as scheduled, timed against the ceiling of the same work.

    .venv/bin/python bench/end_to_end.py [--scales quickbooks=60,attio=250,ga4=4,shopify=3]
        [--ga4-properties 2] [--mode concurrent|sequential] [--skip-ceilings] [--skip-overhead]
        [--out bench/results/end_to_end.json]

Starts a warehouse and a sandbox of its own (free ports, under .bench-e2e/: bench/_stack.py), so
it disturbs neither the demo nor the tests. Each source's sandbox world has its own scale (the
sandbox's `--source-scales`); the default mix is ~1.1M records. Absolute times do not compare
between machines; the ratios to the in-run ceilings do.

Phases (issue #21), all on the same world, Meltano state kept between them:
  1. first load: `meltano run <job>` for quickbooks, attio, ga4 and shopify (each job is
     `tap-X target-postgres` then `dbt:build_X`, orchestrate/jobs.meltano.yml), one after the
     other or all at once (--mode), then `meltano run cross-source` (it builds its own seed,
     personal_email_domains, tagged cross_source);
  2. no-change run: every job again, one at a time, nothing changed at the vendors;
  3. small-change run: a few records changed through the sandbox's own hooks (the ones the
     reliability tests use: QuickBooks and Shopify `mutate`, Attio `mutate` on people and deals,
     GA4 `restate` and `sessions`), the sandbox clock one hour on, then every job one at a time;
  4. ceilings of the same work, on the same data:
     (c) models: ANALYZE every raw table, then `meltano invoke dbt:build_<job> --full-refresh`
         for each job (the job's own selection, tests included; run_results.json's args say
         full_refresh was passed through);
     (d) correctness: every table the models materialise (staging, intermediate, marts) is
         fingerprinted (row count and md5 of its rows as jsonb, column order ignored) after the
         small-change run and again after (c): any difference is a failure, exit code 1;
     Meltano's overhead per run (as bench/quickbooks.py measures it; --skip-overhead);
     (b) COPY: each raw table copied out (`COPY (select * …) TO STDOUT`, to a file) and timed
         back in with `COPY … FROM STDIN` into an empty `(like … including all)` table;
     (a) extract: the bare request+parse loops of bench/quickbooks.py, attio_tap.py and
         ga4_tap.py, pointed at this stack's sandbox (Attio every object, its read limiter off;
         GA4 the tap's default reports for each property). Shopify's bare loop (bench/
         shopify_tap.py) replays pages recorded in its own process and cannot be pointed at
         this sandbox; here it re-reads the bulk-operation files the first load downloaded, and
         says "not measured" when the first load paged instead. (a) and (b): --skip-ceilings.

Each job's figures: wall (process start to exit); load_s (start to the last line the tap or the
loader logged in Meltano's run log) and dbt_s (the rest: Meltano starting dbt, dbt's parse, its
models and tests); dbt_execute_s (dbt's own `elapsed_time` in run_results.json: the nodes only,
read from the job's own dbt target folder); the 5 slowest nodes; records the loader counted; CPU
seconds by role (tap, target, dbt, meltano) of the job's processes. No-change and small-change
runs add rows moved and API requests.

Ratios and goals (issue #21):
  - build_vs_ceiling per job: first-load dbt_execute_s / ceiling dbt_execute_s (goal <= 2);
  - no-change run of each job: its dbt part (dbt_s: Meltano starting dbt, the parse, the models
    and tests) <= 30 s; the whole job's wall is reported beside it;
  - end_to_end_vs_ceiling: first-load wall (four jobs + cross-source) / (extract ceiling + COPY
    ceiling + model ceiling) (goal <= 2, at >= 1M records). A source whose extract ceiling was
    not measured adds nothing to the ceiling, so the ratio then errs high and says so.

Prints a summary and writes bench/results/end_to_end.json (or --out).
"""

from __future__ import annotations

import argparse
import ast
import collections
import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

import _stack
import attio_tap
import ga4_tap
import quickbooks
from _stack import ROOT, BIN, CpuSampler, PrivateStack

RUN_DIR = ROOT / ".bench-e2e"
SOURCES = ("quickbooks", "attio", "ga4", "shopify")
JOBS = (*SOURCES, "cross-source")
GA4_PROPERTIES = ["412345678", "412345679"]
DEFAULT_SCALES = "quickbooks=60,attio=250,ga4=4,shopify=3"  # ~1.1M records, measured
MODEL_SCHEMAS = ("staging", "intermediate", "marts")
GA4_REPORTS_FILE = ROOT / "extract" / "tap-ga4" / "tap_ga4" / "reports.py"
LOG_LINE = re.compile(r"^(\S+Z) \[\s*\w+\s*\] (\S+)")  # Meltano's: time [level] plugin …
GOAL_BUILD_RATIO, GOAL_NO_CHANGE_S, GOAL_END_TO_END_RATIO = 2.0, 30.0, 2.0


def env(stack: PrivateStack, ga4_properties: int) -> dict[str, str]:
    """The private stack's environment, reading one or both of the sandbox's GA4 properties."""
    return {**stack.env(), "TAP_GA4_PROPERTY_IDS": json.dumps(GA4_PROPERTIES[:ga4_properties])}


def job_env(e: dict, job: str) -> dict:
    """Each job its own dbt target folder: jobs running at once must not share run_results.json."""
    return {**e, "DBT_TARGET_PATH": str(dbt_target(job)), "DBT_LOG_PATH": str(RUN_DIR / "dbt" / job / "logs")}


def dbt_target(job: str) -> Path:
    return RUN_DIR / "dbt" / job / "target"


def dbt_command(job: str) -> str:
    return f"dbt:build_{job.replace('-', '_')}"


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


def requests_between(stack: PrivateStack, since: int) -> dict[str, dict]:
    by_source: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for entry in request_log(stack, since):
        source = source_of(entry)
        if source:
            by_source[source][endpoint_of(entry)] += 1
    return {s: {"total": sum(c.values()), "by_endpoint": dict(c.most_common())} for s, c in sorted(by_source.items())}


def vendor_counters(stack: PrivateStack) -> dict:
    """The simulators' own accounting: GA4 quota tokens, Shopify cost points."""
    return {"ga4": stack.sandbox("GET", "/_sandbox/ga4/counts"), "shopify": stack.sandbox("GET", "/_sandbox/shopify/requests")}


def postmaster_pid(stack: PrivateStack) -> int:
    for line in (stack.run_dir / "warehouse").rglob("postmaster.pid"):
        return int(line.read_text().splitlines()[0])
    raise RuntimeError("the warehouse's postmaster.pid was not found")


# -- a job, run and read back -------------------------------------------------------------------
def log_path(log_name: str) -> Path:
    return RUN_DIR / "logs" / f"{log_name}.log"


def meltano(verb: str, args: list[str], e: dict, log_name: str) -> subprocess.Popen:
    logf = open(log_path(log_name), "w")
    return subprocess.Popen([str(BIN / "meltano"), verb, *args], cwd=ROOT, env=e, stdin=subprocess.DEVNULL,
                            stdout=logf, stderr=subprocess.STDOUT)


def stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=dt.timezone.utc)


def parse_run_log(log_name: str, started_at: dt.datetime) -> dict:
    """Records the loader counted per stream; when the load part ended (the last line its tap or
    loader logged) and how long the loader ran on after its tap's last line."""
    loaded: dict[str, int] = collections.Counter()
    tap_done = target_done = None
    text = log_path(log_name).read_text(errors="replace")
    for line in text.splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        when, plugin = stamp(match.group(1)), match.group(2)
        if plugin.startswith("target-"):
            target_done = when
            if '"record_count"' in line:
                metric = json.loads(line[line.index("{"):])
                loaded[metric["tags"]["stream"]] += metric["value"]
        elif plugin.startswith("tap-"):
            tap_done = when
    load_end = max(filter(None, (tap_done, target_done)), default=None)
    return {"records": sum(loaded.values()), "records_by_stream": dict(sorted(loaded.items())),
            "load_s": round((load_end - started_at).total_seconds(), 1) if load_end else 0.0,
            "loader_ran_on_after_tap_s": round((target_done - tap_done).total_seconds(), 1)
            if tap_done and target_done else None,
            "dbt_full_parse": "Unable to do partial parsing" in text}  # dbt says why (a changed project, …)


def read_run_results(job: str, since: float) -> dict:
    """dbt's own account of the job's build: its elapsed time, nodes by status, the 5 slowest."""
    path = dbt_target(job) / "run_results.json"
    if not path.exists() or path.stat().st_mtime < since:
        return {"dbt_execute_s": None, "dbt_nodes": {}, "slowest_nodes": [], "full_refresh": None}
    data = json.loads(path.read_text())
    results = data["results"]
    slowest = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:5]
    return {"dbt_execute_s": round(data["elapsed_time"], 1),
            "dbt_nodes": dict(collections.Counter(r["status"] for r in results)),
            "slowest_nodes": [{"node": r["unique_id"], "status": r["status"], "s": round(r["execution_time"], 1)}
                              for r in slowest],
            "full_refresh": bool(data.get("args", {}).get("full_refresh"))}


class Job:
    """One `meltano run <job>` (or `meltano invoke dbt:build_<job> …`) in flight."""

    def __init__(self, job: str, e: dict, label: str, verb: str = "run", args: list[str] | None = None) -> None:
        self.job, self.log_name = job, f"{label}-{job}"
        self.started_at, self.started, self.since = dt.datetime.now(dt.timezone.utc), time.perf_counter(), time.time()
        self.proc = meltano(verb, args or [job], job_env(e, job), self.log_name)
        self.sampler = CpuSampler(self.proc.pid)

    def finish(self) -> dict:
        code = self.proc.wait()
        wall = round(time.perf_counter() - self.started, 1)
        figures = {"wall_s": wall, "exit_code": code, **parse_run_log(self.log_name, self.started_at),
                   **read_run_results(self.job, self.since), "cpu_s": self.sampler.totals(),
                   "log": str(log_path(self.log_name).relative_to(ROOT))}
        figures["dbt_s"] = round(wall - figures["load_s"], 1)
        print(f"  {self.job:<12} {wall:>7} s (load {figures['load_s']} s, dbt {figures['dbt_s']} s, "
              f"dbt nodes {figures['dbt_execute_s']} s) {figures['records']:>9,} records"
              + ("" if code == 0 else f"  FAILED (exit {code}): {figures['log']}"), flush=True)
        return figures


def run_jobs(jobs: tuple[str, ...], mode: str, e: dict, label: str) -> dict[str, dict]:
    """The jobs one after the other, or all at once (each job's time ends when its own run does)."""
    if mode == "sequential":
        return {job: Job(job, e, label).finish() for job in jobs}
    running, out = {job: Job(job, e, label) for job in jobs}, {}
    while running:
        for job in [j for j, run in running.items() if run.proc.poll() is not None]:
            out[job] = running.pop(job).finish()
        time.sleep(0.2)
    return {job: out[job] for job in jobs}


def run_phase(stack: PrivateStack, e: dict, label: str, mode: str) -> dict:
    """Every source job (`mode`), then cross-source; wall time and API requests of the whole phase."""
    print(f"{label} ({mode} source jobs, then cross-source) …", flush=True)
    seq, started = last_seq(stack), time.perf_counter()
    jobs = run_jobs(SOURCES, mode, e, label)
    jobs.update(run_jobs(("cross-source",), "sequential", e, label))
    made = requests_between(stack, seq)
    for source in SOURCES:
        jobs[source]["api_requests"] = made.get(source, {}).get("total", 0)
        jobs[source]["requests_by_endpoint"] = made.get(source, {}).get("by_endpoint", {})
    return {"mode": mode, "wall_s": round(time.perf_counter() - started, 1), "jobs": jobs}


# -- a small change at every vendor -------------------------------------------------------------
def small_change(stack: PrivateStack) -> dict:
    """A few records changed at each vendor through the sandbox's hooks, an hour later."""
    stack.sandbox("POST", "/_sandbox/clock", {"advance_seconds": 3600})
    qb = stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 21, "new": 5, "updated": 5, "deleted": 2})
    people = stack.sandbox("POST", "/_sandbox/attio/mutate", {"object": "people", "update": 5, "create": 3})
    deals = stack.sandbox("POST", "/_sandbox/attio/mutate", {"object": "deals", "update": 2, "create": 1, "delete": 1})
    restated = stack.sandbox("POST", "/_sandbox/ga4/restate", {})
    sessions = stack.sandbox("POST", "/_sandbox/ga4/sessions", {"sessions": [{"sessionSource": "newsletter"}] * 5,
                                                               "days_ago": 1})
    shop = stack.sandbox("POST", "/_sandbox/shopify/mutate", {"orders_updated": 5, "orders_created": 3, "refunds": 1,
                                                             "customers_updated": 2})
    return {"clock": "+1 h",
            "quickbooks": {"changes": len(qb["changes"])},
            "attio": {kind: {k: len(v) for k, v in got.items() if isinstance(v, list)}
                      for kind, got in (("people", people), ("deals", deals))},
            "ga4": {"restate": restated, "late_sessions_added": sessions},
            "shopify": {k: len(v) for k, v in shop.items()}}


# -- ceilings: the models on analyzed tables, and the correctness check beside them ------------
def raw_tables(conn) -> list[tuple[str, str]]:
    return conn.execute("select table_schema, table_name from information_schema.tables where table_schema "
                        "like 'raw\\_%' and table_type = 'BASE TABLE' order by 1, 2").fetchall()


def analyze_raw(stack: PrivateStack) -> float:
    started = time.perf_counter()
    with psycopg.connect(**stack.warehouse, autocommit=True) as conn:
        for schema, table in raw_tables(conn):
            conn.execute(f'analyze "{schema}"."{table}"')
    return round(time.perf_counter() - started, 1)


def fingerprint_models(stack: PrivateStack) -> dict[str, list]:
    """Row count and md5 of every row (as jsonb: column order ignored) of each table the models
    materialise; views are left out (they hold nothing a full refresh could change)."""
    out = {}
    with psycopg.connect(**stack.warehouse) as conn:
        tables = conn.execute("select table_schema, table_name from information_schema.tables where table_schema "
                              "= any(%s) and table_type = 'BASE TABLE' order by 1, 2", [list(MODEL_SCHEMAS)]).fetchall()
        for schema, table in tables:
            count, digest = conn.execute(
                f"select count(*), md5(coalesce(string_agg(h, '' order by h), '')) from "
                f"(select md5(to_jsonb(t)::text) as h from \"{schema}\".\"{table}\" t) rows").fetchone()
            out[f"{schema}.{table}"] = [count, digest]
    return out


def model_ceilings(e: dict) -> dict[str, dict]:
    """Each job's dbt build once more with --full-refresh, one at a time, on analyzed raw tables."""
    print("model ceilings: meltano invoke dbt:build_<job> --full-refresh, raw tables analyzed …", flush=True)
    return {job: Job(job, e, "ceiling", "invoke", [dbt_command(job), "--full-refresh"]).finish() for job in JOBS}


def compare(before: dict, after: dict) -> dict:
    """Tables whose rows differ; a table on one side only is listed apart (a model made a table
    or a view between the two: the project changed during the run), not compared."""
    return {"tables": len(set(before) & set(after)),
            "differences": [{"table": t, "incremental": before[t], "full_refresh": after[t]}
                            for t in sorted(set(before) & set(after)) if before[t] != after[t]],
            "only_after_small_change": sorted(set(before) - set(after)),
            "only_after_full_refresh": sorted(set(after) - set(before))}


# -- ceilings: COPY of the same records ---------------------------------------------------------
def copy_ceiling(stack: PrivateStack) -> dict[str, dict]:
    """Each raw table copied out to a file, then timed back in with COPY FROM STDIN into an empty
    table like it (indexes and constraints included); seconds and rows per source."""
    print("COPY ceiling …", flush=True)
    out: dict[str, dict] = {}
    spool = RUN_DIR / "copy.dat"
    with psycopg.connect(**stack.warehouse, autocommit=True) as conn:
        conn.execute("drop schema if exists bench_copy cascade; create schema bench_copy")
        for schema, table in raw_tables(conn):
            with conn.cursor() as cur, open(spool, "wb") as f, cur.copy(f'copy (select * from "{schema}"."{table}") to stdout') as copy:
                for chunk in copy:
                    f.write(chunk)
            conn.execute(f'create table bench_copy."{table}" (like "{schema}"."{table}" including all)')
            started = time.perf_counter()
            with conn.cursor() as cur, open(spool, "rb") as f, cur.copy(f'copy bench_copy."{table}" from stdin') as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            seconds = time.perf_counter() - started
            rows = conn.execute(f'select count(*) from bench_copy."{table}"').fetchone()[0]
            conn.execute(f'drop table bench_copy."{table}"')
            source = out.setdefault(schema.removeprefix("raw_"), {"copy_s": 0.0, "rows": 0, "tables": 0})
            source["copy_s"] += seconds
            source["rows"] += rows
            source["tables"] += 1
        conn.execute("drop schema bench_copy cascade")
    spool.unlink(missing_ok=True)
    return {s: {**f, "copy_s": round(f["copy_s"], 2)} for s, f in out.items()}


# -- ceilings: the bare extract loops -----------------------------------------------------------
def extract_ceilings(stack: PrivateStack, e: dict, first_load_seq: tuple[int, int]) -> dict[str, dict]:
    """The bare request+parse loop of each source over the same data (QuickBooks last: its loop
    puts the tap's venv on sys.path and rotates the sandbox's refresh token)."""
    print("extract ceilings (bare loops) …", flush=True)
    out = {"attio": attio_ceiling(stack, e), "ga4": ga4_ceiling(stack, e),
           "shopify": shopify_ceiling(stack, first_load_seq)}
    token = stack.sandbox("GET", "/_sandbox/quickbooks/tokens")["refresh_token"]
    seconds, records = quickbooks.ceiling_pages(stack, token)
    out["quickbooks"] = {"extract_s": round(seconds, 2), "records": records,
                         "how": "bench/quickbooks.py's loop: the same batch queries, P&L windows and CDC call"}
    for source, figures in out.items():
        print(f"  {source:<10} {figures.get('extract_s')} s, {figures.get('records')} records  ({figures['how']})")
    return out


def attio_ceiling(stack: PrivateStack, e: dict) -> dict:
    """bench/attio_tap.py's loop over every object (lists' entries, notes and tasks are not read)."""
    counts = stack.sandbox("GET", "/_sandbox/attio/counts")
    objects = list(counts["attributes"])
    stack.sandbox("POST", "/_sandbox/attio/limits", {"enabled": False})
    try:
        runs = [attio_tap.ceiling(e["TAP_ATTIO_API_URL"], object=slug) for slug in objects]
    finally:
        stack.sandbox("POST", "/_sandbox/attio/limits", {"enabled": True})
    return {"extract_s": round(sum(r["seconds"] for r in runs), 2), "records": sum(r["records"] for r in runs),
            "how": f"bench/attio_tap.py's loop over {len(objects)} objects, read limiter off; "
                   "list entries, notes, tasks, members not read"}


def ga4_default_reports() -> list[dict]:
    """The tap's DEFAULT_REPORTS, read from its source (the tap's own venv is not this one)."""
    tree = ast.parse(GA4_REPORTS_FILE.read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "DEFAULT_REPORTS":
            return ast.literal_eval(node.value)
    raise RuntimeError(f"DEFAULT_REPORTS not found in {GA4_REPORTS_FILE}")


def ga4_ceiling(stack: PrivateStack, e: dict) -> dict:
    """bench/ga4_tap.py's loop over the tap's default reports, each property, windows as configured."""
    properties = json.loads(e["TAP_GA4_PROPERTY_IDS"])
    for property_id in properties:  # the loop must not be stopped by the quota the runs spent
        stack.sandbox("POST", "/_sandbox/ga4/quota", {"property_id": property_id, "tokensPerDay": 10**9,
                                                      "tokensPerHour": 10**9, "tokensPerProjectPerHour": 10**9})
    today = dt.datetime.fromisoformat(stack.sandbox("GET", "/_sandbox/health")["sandbox_now"]).date()
    wins = ga4_tap.windows(dt.date(2024, 1, 1), today - dt.timedelta(days=1), 30)
    token = stack.sandbox("POST", "/_sandbox/ga4/token", {})["access_token"]
    runs = [ga4_tap.ceiling(stack.sandbox_url, token, wins, 100_000, report=report, property_id=property_id)
            for property_id in properties for report in ga4_default_reports()]
    return {"extract_s": round(sum(r["seconds"] for r in runs), 2), "records": sum(r["rows"] for r in runs),
            "how": f"bench/ga4_tap.py's loop: {len(runs)} reports x properties, 30-day windows from 2024-01-01"}


def shopify_ceiling(stack: PrivateStack, first_load_seq: tuple[int, int]) -> dict:
    """The bulk-operation files the first load downloaded, fetched and parsed again line by line."""
    entries = [x for x in request_log(stack, first_load_seq[0]) if x["seq"] <= first_load_seq[1]]
    files = sorted({x["path"] for x in entries if re.search(r"/bulk/[0-9a-f]+\.jsonl$", x["path"])})
    if not files:
        return {"extract_s": None, "records": None,
                "how": "not measured: the first load paged (bench/shopify_tap.py's loop replays pages recorded in "
                       "its own process; the sandbox's log keeps no request bodies to replay here)"}
    session, records = requests.Session(), 0
    started = time.perf_counter()
    for path in files:
        response = session.get(f"{stack.sandbox_url}{path}")
        response.raise_for_status()
        records += sum(1 for line in response.iter_lines() if line and json.loads(line))
    return {"extract_s": round(time.perf_counter() - started, 2), "records": records,
            "how": f"the first load's {len(files)} bulk files re-read (not the bulk operations' own wait)"}


# -- the report ---------------------------------------------------------------------------------
def ratio(a, b) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def goals(first: dict, no_change: dict, model: dict, end_to_end: float | None, records: int) -> dict:
    builds = {job: ratio(first["jobs"][job]["dbt_execute_s"], model["jobs"][job]["dbt_execute_s"]) for job in JOBS}
    no_change_s = {job: no_change["jobs"][job]["dbt_s"] for job in JOBS}
    return {
        "build_vs_ceiling_per_job": builds,
        "builds_within_2x": all(r is not None and r <= GOAL_BUILD_RATIO for r in builds.values()),
        "no_change_dbt_s_per_job": no_change_s,
        "no_change_wall_s_per_job": {job: no_change["jobs"][job]["wall_s"] for job in JOBS},
        "no_change_runs_within_30s": all(s <= GOAL_NO_CHANGE_S for s in no_change_s.values()),
        "end_to_end_vs_ceiling": end_to_end,
        "end_to_end_within_2x": end_to_end is not None and end_to_end <= GOAL_END_TO_END_RATIO,
        "at_1m_records": records >= 1_000_000,
    }


def vendor_figures(full_records: dict, counters0: dict, counters1: dict) -> dict:
    tokens = sum(counters1["ga4"]["tokens_charged"].values()) - sum(counters0["ga4"]["tokens_charged"].values())
    points = counters1["shopify"]["cost_actual"] - counters0["shopify"]["cost_actual"]
    ga4_rows, orders = full_records["ga4"]["records"], full_records["shopify"]["records_by_stream"].get("orders", 0)
    return {"ga4_quota_tokens": tokens, "ga4_quota_tokens_per_1000_rows": ratio(tokens * 1000, ga4_rows),
            "shopify_cost_points": points, "shopify_cost_points_per_1000_orders": ratio(points * 1000, orders)}


def print_phase(name: str, phase: dict) -> None:
    print(f"\n{name} ({phase['mode']}): {phase['wall_s']} s")
    print(f"  {'job':<12} {'wall':>7} {'load':>7} {'dbt':>7} {'nodes':>7} {'records':>9} {'requests':>8}  cpu by role")
    for job, f in phase["jobs"].items():
        print(f"  {job:<12} {f['wall_s']:>7} {f['load_s']:>7} {f['dbt_s']:>7} {f['dbt_execute_s'] or '-':>7} "
              f"{f['records']:>9,} {f.get('api_requests', '-'):>8}  {f['cpu_s']}")
        for node in f["slowest_nodes"]:
            print(f"      {node['s']:>6} s  {node['status']:<7} {node['node']}")


def print_summary(result: dict) -> None:
    for key, name in (("first_load", "first load"), ("no_change", "no-change run"), ("small_change", "small-change run"),
                      ("model_ceiling", "model ceiling (--full-refresh, analyzed)")):
        print_phase(name, result[key])
    c = result["ceilings"]
    print(f"\nceilings: extract {c['extract_s']} s + COPY {c['copy_s']} s + models {c['model_s']} s = {c['total_s']} s"
          + (f"  (extract not measured for: {', '.join(c['extract_not_measured'])})" if c["extract_not_measured"] else ""))
    g = result["goals"]
    print(f"first load, every job: {result['full_sync_and_models_s']} s for {result['records_loaded']:,} records; "
          f"end to end / ceiling {g['end_to_end_vs_ceiling']} (goal <= 2: "
          f"{'met' if g['end_to_end_within_2x'] else 'NOT met'}; at >= 1M records: {g['at_1m_records']})")
    print(f"dbt build / ceiling build per job {g['build_vs_ceiling_per_job']} (goal <= 2: "
          f"{'met' if g['builds_within_2x'] else 'NOT met'})")
    print(f"no-change run per job, dbt part s {g['no_change_dbt_s_per_job']} (goal <= 30 s: "
          f"{'met' if g['no_change_runs_within_30s'] else 'NOT met'})")
    cpu = result["cpu_s"]
    print(f"CPU seconds, first load: pipeline {cpu['pipeline']}, sandbox {cpu['sandbox']}, postgresql {cpu['postgresql']} "
          f"of {cpu['available_core_s']} available")
    print(f"GA4 quota tokens per 1,000 rows {result['ga4_quota_tokens_per_1000_rows']}; Shopify cost points per "
          f"1,000 orders {result['shopify_cost_points_per_1000_orders']}; Meltano overhead per run "
          f"{result['meltano_overhead'].get('meltano_overhead_s')} s")
    check = result["full_refresh_check"]
    print(f"full refresh = incremental: {check['tables']} tables compared, "
          + ("all equal" if not check["differences"] else f"DIFFERENT: {[d['table'] for d in check['differences']]}"))
    one_side = check["only_after_small_change"] + check["only_after_full_refresh"]
    if one_side:
        print(f"  not compared, a table on one side only (the project changed during the run?): {one_side}")
    full_parse = [f"{phase}:{job}" for phase in ("no_change", "small_change")
                  for job, f in result[phase]["jobs"].items() if f["dbt_full_parse"]]
    if full_parse:
        print(f"  dbt could not partially parse (a full parse inside dbt_s) in: {', '.join(full_parse)}")


def assemble(args, machine, first, no_change, small, changed, model, check, ceilings, cpu, vendors, overhead,
             line_items) -> dict:
    records = sum(first["jobs"][s]["records"] for s in SOURCES)
    extract = ceilings.get("extract", {})
    not_measured = [s for s in SOURCES if extract.get(s, {}).get("extract_s") is None]
    extract_s = round(sum(extract[s]["extract_s"] for s in SOURCES if s not in not_measured), 2)
    copy_s = round(sum(f["copy_s"] for f in ceilings.get("copy", {}).values()), 2)
    model_s = round(sum(model["jobs"][job]["dbt_execute_s"] or 0 for job in JOBS), 1)
    total = round(extract_s + copy_s + model_s, 1)
    end_to_end = ratio(first["wall_s"], total) if ceilings else None
    return {
        **_stack.result_header(args),
        "machine": {**machine, "load_average_at_end": _stack.load_average()},
        "records_loaded": records,
        "full_sync_and_models_s": first["wall_s"],
        "records_per_s_end_to_end": round(records / first["wall_s"]) if first["wall_s"] else None,
        "end_to_end_vs_ceiling": end_to_end,
        "goals_met": None,
        "goals": goals(first, no_change, model, end_to_end, records),
        "first_load": first, "no_change": no_change, "small_change": {**small, "changed_at_vendors": changed},
        "model_ceiling": model,
        "ceilings": {"extract_s": extract_s, "extract_not_measured": not_measured, "copy_s": copy_s,
                     "model_s": model_s, "total_s": total, "skipped": not ceilings,
                     "extract": extract, "copy": ceilings.get("copy", {})},
        "full_refresh_check": check,
        "cpu_s": cpu,
        **vendors,
        "shopify_line_items_nested_in_orders": line_items,
        "meltano_overhead": overhead,
    }


def line_items_loaded(stack: PrivateStack) -> int:
    """Shopify line items arrive nested in their orders (jsonb[] or jsonb, by loader)."""
    with psycopg.connect(**stack.warehouse) as conn:
        kind = conn.execute("select data_type from information_schema.columns where table_schema = 'raw_shopify' "
                            "and table_name = 'orders' and column_name = 'lineItems'").fetchone()
        if kind is None:
            return 0
        length = 'cardinality("lineItems")' if kind[0] == "ARRAY" else 'jsonb_array_length("lineItems")'
        return int(conn.execute(f"select coalesce(sum({length}), 0) from raw_shopify.orders").fetchone()[0])


def all_ran(*phases: dict) -> bool:
    return all(f["exit_code"] == 0 for phase in phases for f in phase["jobs"].values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default=DEFAULT_SCALES, help=f"per-source sandbox scales (default {DEFAULT_SCALES})")
    parser.add_argument("--ga4-properties", type=int, default=2, choices=(1, 2))
    parser.add_argument("--mode", choices=("sequential", "concurrent"), default="concurrent",
                        help="the first load's four source jobs one after the other or at once")
    parser.add_argument("--skip-ceilings", action="store_true",
                        help="skip the extract and COPY ceilings (the model ceiling and the check always run)")
    parser.add_argument("--skip-overhead", action="store_true", help="skip Meltano's overhead measurement")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "end_to_end.json"))
    args = parser.parse_args()
    print(f"building the sandbox's worlds ({args.scales}) …", flush=True)
    with _stack.private_stack(RUN_DIR, "--scale", "1", "--source-scales", args.scales) as stack:
        e = env(stack, args.ga4_properties)
        (RUN_DIR / "logs").mkdir()
        with psycopg.connect(**stack.warehouse) as conn:
            machine = _stack.machine_facts(postgresql=conn.execute("show server_version").fetchone()[0])
        subprocess.run([str(BIN / "meltano"), "state", "list"], cwd=ROOT, env=e, capture_output=True)  # creates meltano.db
        sandbox_pid, pg_pid = int((RUN_DIR / "sandbox" / "sandbox.pid").read_text()), postmaster_pid(stack)
        cpu0 = (_stack.children_cpu_s(), _stack.process_cpu_s(sandbox_pid), _stack.process_cpu_s(pg_pid))
        seq0, counters0 = last_seq(stack), vendor_counters(stack)

        first = run_phase(stack, e, "first-load", args.mode)
        cpu1 = (_stack.children_cpu_s(), _stack.process_cpu_s(sandbox_pid), _stack.process_cpu_s(pg_pid))
        first_load_seq, counters1 = (seq0, last_seq(stack)), vendor_counters(stack)
        line_items = line_items_loaded(stack)
        no_change = run_phase(stack, e, "no-change", "sequential")
        changed = small_change(stack)
        small = run_phase(stack, e, "small-change", "sequential")

        incremental = fingerprint_models(stack)
        analyze_s = analyze_raw(stack)
        model = {"mode": "sequential", "analyze_s": analyze_s, "jobs": model_ceilings(e)}
        model["wall_s"] = round(sum(f["wall_s"] for f in model["jobs"].values()), 1)
        refreshed = fingerprint_models(stack)
        passed = [job for job, f in model["jobs"].items() if f["full_refresh"] is False]
        check = {**compare(incremental, refreshed), "full_refresh_not_passed_to_dbt": passed}
        overhead = {} if args.skip_overhead else quickbooks.meltano_overhead(stack, repeat=3)
        ceilings = {} if args.skip_ceilings else {"copy": copy_ceiling(stack),
                                                  "extract": extract_ceilings(stack, e, first_load_seq)}

    cores = machine["cores"]
    cpu = {"pipeline": round(cpu1[0] - cpu0[0], 1), "sandbox": round(cpu1[1] - cpu0[1], 1),
           "postgresql": round(cpu1[2] - cpu0[2], 1), "available_core_s": round(first["wall_s"] * cores, 1),
           "note": "first load; pipeline = Meltano, taps, targets, dbt (this script's children); sandbox and "
                   "postgresql measured on their own processes; per job by role in first_load.jobs.*.cpu_s"}
    result = assemble(args, machine, first, no_change, small, changed, model, check, ceilings, cpu,
                      vendor_figures(first["jobs"], counters0, counters1), overhead, line_items)
    ok = all_ran(first, no_change, small, model) and not check["differences"] and not passed
    g = result["goals"]
    result["goals_met"] = g["builds_within_2x"] and g["no_change_runs_within_30s"] and g["end_to_end_within_2x"]
    print_summary(result)
    _stack.write_results(result, Path(args.out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
