"""Benchmark: the loader's records/s against PostgreSQL COPY of the same rows.

Generates ~200k order-like records (nested objects and arrays of objects, ~860 B each, like
Shopify orders or QuickBooks invoices) as Singer messages, starts a warehouse of its own
(load/warehouse.py on a free port, data in a temp folder) and measures, alternating, N times each:
  (a) ceiling: PostgreSQL COPY of the same rows, already serialised, into a table with a primary
      key (one figure with nested arrays as jsonb, one as jsonb[]);
  (b) the stock meltanolabs target-postgres with its defaults, messages replayed on stdin;
  (b') the same with the settings the project used before the tuned target
      (use_copy, add_record_metadata);
  (c) our tuned target (load/target-postgres-wrapper) with the project's settings;
  (d) the tap -> target pipe: tap-attio reading the Attio simulator (--people records) piped into
      the stock target and into the tuned target (processes started here, as Meltano does); with
      --ga4-days, tap-ga4's per-session report piped into the tuned target too. For each pipe run,
      the CPU seconds of every process taking part — tap, target, simulator, PostgreSQL (all its
      processes) — per record, and the records/s that CPU allows on this machine's cores: the
      figure that holds on a shared machine, where wall-clock rates do not.
Every load validates records (the default), and every load is checked: row count, distinct keys
and a checksum of a nested value (sum of every line item's quantity) against the generated data;
pipe loads: rows, distinct keys (and for Attio the ids) against a bare read of the simulator, and
a checksum of every landed value but the _sdc_* bookkeeping columns.
Reports medians of records/s (wall time of the target process, start-up included) and the ratio
to COPY. Writes bench/results/target_postgres.json.

    .venv/bin/python bench/target_postgres.py [--records 200000] [--runs 3] [--people 100000] [--ga4-days 365]
Not a test: it prints figures and never fails on them (a failed load check is reported as such).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "target_postgres.json"
TARGET_BIN = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
STREAM = "orders"
SCHEMA_NAME = "bench"

# -- the generated records ------------------------------------------------------------------------
MONEY = {"type": ["object", "null"], "properties": {
    "amount": {"type": ["string", "null"]}, "currencyCode": {"type": ["string", "null"]}}}
ADDRESS = {"type": ["object", "null"], "properties": {
    k: {"type": ["string", "null"]} for k in ("address1", "city", "province", "zip", "countryCode")}}
ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "createdAt": {"type": ["string", "null"], "format": "date-time"},
        "updatedAt": {"type": ["string", "null"], "format": "date-time"},
        "financialStatus": {"type": ["string", "null"]},
        "totalPrice": {"type": ["number", "null"]},
        "itemCount": {"type": ["integer", "null"]},
        "test": {"type": ["boolean", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "customer": {"type": ["object", "null"], "properties": {
            "id": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
            "firstName": {"type": ["string", "null"]}, "lastName": {"type": ["string", "null"]}}},
        "shippingAddress": ADDRESS,
        "totalTaxSet": MONEY,
        "lineItems": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "id": {"type": ["string", "null"]}, "sku": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]}, "quantity": {"type": ["integer", "null"]},
            "originalUnitPriceSet": MONEY}}},
        "discountApplications": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "code": {"type": ["string", "null"]}, "value": {"type": ["number", "null"]}}}},
    },
}
WORDS = "alpine basic canvas denim everyday field garden harbor linen merino summit trail".split()
CITIES = [("Portland", "OR", "97201"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108"), ("Denver", "CO", "80202")]


def order(i: int, rng: random.Random) -> dict:
    created = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i * 97)
    city, province, zip_code = rng.choice(CITIES)
    lines = []
    for n in range(rng.choice((1, 2, 2, 3))):
        word = rng.choice(WORDS)
        lines.append({"id": f"gid://shopify/LineItem/{i * 10 + n}", "sku": f"SKU-{word[:3].upper()}-{n}",
                      "title": f"{word.title()} tee", "quantity": rng.randint(1, 4),
                      "originalUnitPriceSet": {"amount": f"{rng.randint(500, 9000) / 100:.2f}", "currencyCode": "USD"}})
    return {
        "id": f"gid://shopify/Order/{1000000 + i}", "name": f"#{1000 + i}", "email": f"buyer{i % 5000}@example.com",
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": (created + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "financialStatus": rng.choice(("PAID", "PAID", "PENDING", "REFUNDED")),
        "totalPrice": round(rng.uniform(5, 400), 2), "itemCount": len(lines), "test": False,
        "tags": rng.sample(WORDS, 2),
        "customer": {"id": f"gid://shopify/Customer/{i % 5000}", "email": f"buyer{i % 5000}@example.com",
                     "firstName": "Ada", "lastName": f"Buyer {i % 5000}"},
        "shippingAddress": {"address1": f"{i % 900} Main St", "city": city, "province": province, "zip": zip_code,
                            "countryCode": "US"},
        "totalTaxSet": {"amount": f"{rng.randint(0, 3000) / 100:.2f}", "currencyCode": "USD"},
        "lineItems": lines,
        "discountApplications": [{"code": "WELCOME10", "value": 10.0}] if i % 7 == 0 else [],
    }


def write_messages(path: Path, count: int) -> dict:
    """Singer messages for `count` orders; returns what a correct load must hold."""
    rng = random.Random(8)
    quantity = 0
    ids = hashlib.md5()
    with path.open("w") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": STREAM, "schema": ORDER_SCHEMA, "key_properties": ["id"]}) + "\n")
        for i in range(count):
            rec = order(i, rng)
            quantity += sum(line["quantity"] for line in rec["lineItems"])
            out.write(json.dumps({"type": "RECORD", "stream": STREAM, "record": rec,
                                  "time_extracted": "2026-11-25T00:00:00+00:00"}, separators=(",", ":")) + "\n")
        out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {STREAM: {"done": count}}}}) + "\n")
    return {"rows": count, "line_item_quantity": quantity}


# -- the warehouse ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Warehouse:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, "WAREHOUSE_DIR": str(folder), "WAREHOUSE_PORT": str(self.port)}
        self.conninfo = dict(host="127.0.0.1", port=self.port, user="tributary", password="tributary-dev",
                             dbname="warehouse")

    def start(self) -> None:
        subprocess.run([sys.executable, str(ROOT / "load" / "warehouse.py"), "start"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run([sys.executable, str(ROOT / "load" / "warehouse.py"), "stop"], env=self.env,
                       stdout=subprocess.DEVNULL)

    def server_pid(self) -> int:
        """The postmaster's pid, root of every server process: the parent of our backend."""
        with self.connect() as conn:   # read while the backend lives: it exits with the connection
            return _proc_stat(conn.execute("select pg_backend_pid()").fetchone()[0])[0]

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(**self.conninfo, autocommit=True)

    def reset(self) -> None:
        with self.connect() as conn:
            conn.execute(f"drop schema if exists {SCHEMA_NAME} cascade")
            conn.execute("checkpoint")

    def check(self, expected: dict, table: str = STREAM) -> dict:
        """Rows, distinct keys and the sum of every nested line item's quantity, whatever the landed type."""
        with self.connect() as conn:
            rows, keys = conn.execute(f'select count(*), count(distinct id) from {SCHEMA_NAME}."{table}"').fetchone()
            kind = conn.execute(
                "select format_type(atttypid, atttypmod) from pg_attribute "
                "where attrelid = %s::regclass and attname = 'lineItems'", (f'{SCHEMA_NAME}."{table}"',)).fetchone()[0]
            elements = 'unnest(o."lineItems")' if kind.endswith("[]") else 'jsonb_array_elements(o."lineItems")'
            quantity = conn.execute(
                f"select coalesce(sum((item ->> 'quantity')::int), 0) from {SCHEMA_NAME}.\"{table}\" o "
                f"cross join lateral {elements} as item").fetchone()[0]
        got = {"rows": rows, "distinct_keys": keys, "line_item_quantity": quantity, "lineItems_type": kind}
        got["ok"] = rows == expected["rows"] == keys and quantity == expected["line_item_quantity"]
        return got


# -- (a) the ceiling: COPY of the very rows a load landed ------------------------------------------
def copy_ceiling(wh: Warehouse, nested_as: str) -> dict:
    """COPY the rows the last load landed (`COPY ... TO` gives them exactly) into a fresh table with
    the same columns and primary key; nested arrays kept as jsonb[] or turned into jsonb."""
    arrays = ('"lineItems"', '"discountApplications"')
    with wh.connect() as conn:
        columns = [r[0] for r in conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped "
            "order by attnum", (f"{SCHEMA_NAME}.{STREAM}",)).fetchall()]
        select = ", ".join(f'to_jsonb("{c}")' if nested_as == "jsonb" and f'"{c}"' in arrays else f'"{c}"'
                           for c in columns)
        buffer = bytearray()
        with conn.cursor().copy(f"copy (select {select} from {SCHEMA_NAME}.{STREAM}) to stdout") as out:
            for block in out:
                buffer += block
        conn.execute("drop table if exists public.ceiling")
        conn.execute(f"create table public.ceiling (like {SCHEMA_NAME}.{STREAM} including all)")
        if nested_as == "jsonb":
            for column in arrays:
                conn.execute(f"alter table public.ceiling alter column {column} type jsonb using to_jsonb({column})")
        conn.execute("checkpoint")
        rows = conn.execute(f"select count(*) from {SCHEMA_NAME}.{STREAM}").fetchone()[0]
        with conn.transaction():
            started = time.perf_counter()
            with conn.cursor().copy("copy public.ceiling from stdin") as copy:
                view = memoryview(buffer)
                for start in range(0, len(view), 1 << 20):
                    copy.write(view[start:start + (1 << 20)])
        seconds = time.perf_counter() - started
        landed = conn.execute("select count(*) from public.ceiling").fetchone()[0]
        conn.execute("drop table public.ceiling")
    return {"records": rows, "seconds": seconds, "records_per_s": rows / seconds, "ok": landed == rows,
            "bytes": len(buffer)}


# -- (b), (c) a target fed the replayed messages ----------------------------------------------------
TARGETS = {
    # name: (executable in the loader's venv, extra settings)
    "stock_defaults": ("target-postgres", {}),
    "stock_project_settings": ("target-postgres", {"use_copy": True, "add_record_metadata": True}),
    "tuned": ("target-postgres-wrapper", {"use_copy": True, "add_record_metadata": True}),
}


def target_config(wh: Warehouse, folder: Path, name: str, schema: str, **extra) -> Path:
    config = {"host": "127.0.0.1", "port": wh.port, "user": "tributary", "password": "tributary-dev",
              "database": "warehouse", "default_target_schema": schema, **TARGETS[name][1], **extra}
    path = folder / f"{name}-{schema}.json"
    path.write_text(json.dumps(config))
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_target(wh: Warehouse, folder: Path, name: str, messages: Path, expected: dict, **extra) -> dict:
    wh.reset()
    config = target_config(wh, folder, name, SCHEMA_NAME, **extra)
    cpu = children_cpu()
    started = time.perf_counter()
    with messages.open("rb") as stdin:
        done = subprocess.run([str(TARGET_BIN / TARGETS[name][0]), "--config", str(config)], stdin=stdin,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu
    # CPU seconds of the target process: a figure other programs' load on the machine cannot move
    result = {"records": expected["rows"], "seconds": seconds, "records_per_s": expected["rows"] / seconds,
              "cpu_seconds": cpu, "records_per_cpu_s": expected["rows"] / cpu, "rc": done.returncode}
    if done.returncode:
        result["error"] = done.stderr.decode(errors="replace")[-1500:]
    result["check"] = wh.check(expected) if not done.returncode else {"ok": False}
    return result


# -- CPU accounting per process ----------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int | str) -> tuple[int, float, float]:
    """(parent pid, own CPU s, CPU s of its exited and reaped children) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # fields[0] is stat field 3; utime, stime, cutime, cstime are fields 14-17
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return int(fields[1]), (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by a process, its live descendants and every child it has reaped.

    For PostgreSQL's postmaster that is the whole server: each connection's backend is a child
    that the postmaster reaps when it exits, so its time moves into the postmaster's children
    total and stays counted either way."""
    parents, own = {}, {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parent, cpu, reaped = _proc_stat(entry.name)
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue   # exited while we read
            parents[int(entry.name)], own[int(entry.name)] = parent, cpu + reaped
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += own.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def cpu_bound(cpu: dict[str, float], records: int) -> dict:
    """CPU per record of each process of a pipe, and the records/s that CPU allows on this machine.

    Every process of the pipe runs at once, so on N cores the pipe cannot beat N / (sum of
    CPU-seconds per record); nor can it beat its busiest single-threaded process, 1 / (its
    CPU-seconds per record). CPU-seconds per record do not move with other programs' load on
    the machine, so they (and this bound) are comparable between a busy and a quiet machine."""
    per_record = {k: v / records for k, v in cpu.items()}
    total = sum(per_record.values())
    cores = os.cpu_count() or 1
    bound = min(cores / total, 1 / max(per_record.values()))
    return {"cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
            "cpu_us_per_record": {**{k: round(v * 1e6, 1) for k, v in per_record.items()},
                                  "total": round(total * 1e6, 1)},
            "cores": cores, "cpu_bound_records_per_s": round(bound)}


def describe_cpu(r: dict) -> str:
    us = r["cpu_us_per_record"]
    return "CPU µs per record: " + ", ".join(f"{k} {v:,.1f}" for k, v in us.items())


# -- (d) the tap -> target pipe ---------------------------------------------------------------------
ATTIO_KEY = "sandbox-attio-api-key"


class Pipe:
    """A tap reading its simulator, its stdout piped into a target (processes started as Meltano
    does); subclasses set up the tap and say what a correct load holds."""

    label: str      # printed name
    table: str      # the stream's table in SCHEMA_NAME
    key: str        # its key property
    tap: str
    config: Path
    catalog: Path
    proc: subprocess.Popen   # the simulator
    expected: dict           # {"rows": ...} and whatever check() compares

    def run(self, wh: Warehouse, folder: Path, name: str) -> dict:
        wh.reset()
        config = target_config(wh, folder, name, SCHEMA_NAME)
        errors = folder / "pipe-target.err"
        server = wh.server_pid()
        # the simulator and PostgreSQL run before and after: their CPU is read around the pipe
        cpu_before = {"simulator": tree_cpu_seconds(self.proc.pid), "postgres": tree_cpu_seconds(server)}
        started = time.perf_counter()
        tap = subprocess.Popen([self.tap, "--config", str(self.config), "--catalog", str(self.catalog)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        with errors.open("wb") as stderr:
            target = subprocess.Popen([str(TARGET_BIN / TARGETS[name][0]), "--config", str(config)],
                                      stdin=tap.stdout, stdout=subprocess.DEVNULL, stderr=stderr)
            tap.stdout.close()
            # wait4 gives each process's own CPU time: which side of the pipe is the bottleneck
            _, target_status, target_usage = os.wait4(target.pid, 0)
            _, tap_status, tap_usage = os.wait4(tap.pid, 0)
        seconds = time.perf_counter() - started
        cpu = {"tap": tap_usage.ru_utime + tap_usage.ru_stime,
               "target": target_usage.ru_utime + target_usage.ru_stime,
               "simulator": tree_cpu_seconds(self.proc.pid) - cpu_before["simulator"],
               "postgres": tree_cpu_seconds(server) - cpu_before["postgres"]}
        target.returncode = os.waitstatus_to_exitcode(target_status)
        tap.returncode = os.waitstatus_to_exitcode(tap_status)
        records = self.expected["rows"]
        result = {"records": records, "seconds": seconds, "records_per_s": records / seconds,
                  "cpu_seconds_tap": cpu["tap"], "cpu_seconds_target": cpu["target"],
                  "records_per_cpu_s": records / cpu["target"], **cpu_bound(cpu, records),
                  "rc": [tap.returncode, target.returncode]}
        if target.returncode or tap.returncode:
            result["error"] = errors.read_text(errors="replace")[-1500:]
            result["check"] = {"ok": False}
            return result
        result["check"] = self.check(wh)
        return result

    def check(self, wh: Warehouse) -> dict:
        """Rows, distinct keys, and a checksum of every landed value but the loader's own
        bookkeeping (_sdc_*: load times, versions): equal across runs and loaders that land the
        same content."""
        table = f'{SCHEMA_NAME}."{self.table}"'
        with wh.connect() as conn:
            rows, keys, ids = conn.execute(
                f'select count(*), count(distinct "{self.key}"), '
                f'md5(string_agg("{self.key}", \',\' order by "{self.key}" collate "C")) from {table}').fetchone()
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "and column_name not like '\\_sdc\\_%%' order by column_name", (SCHEMA_NAME, self.table)).fetchall()]
            landed = ", ".join(f'p."{c}"' for c in columns)
            content = conn.execute(
                f"select md5(string_agg(row({landed})::text, E'\\n' order by p.\"{self.key}\" collate \"C\")) "
                f"from {table} p").fetchone()[0]
        ok = rows == keys == self.expected["rows"] and self.expected.get("ids_md5", ids) == ids
        return {"rows": rows, "distinct_keys": keys, "ids_md5": ids, "content_md5": content,
                "columns": len(columns), "ok": ok}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class AttioPipe(Pipe):
    """tap-attio reading the Attio simulator (people only, ~3.5 kB records)."""

    label, table, key = "tap-attio", "people", "record_id"

    def __init__(self, folder: Path, people: int) -> None:
        import _stack
        import attio_tap  # the Attio benchmark's simulator start-up, reused

        self.tap = _stack.tap_executable("tap-attio")
        self.proc, base = attio_tap.start_simulator(people)
        self.api_url = f"{base}/attio/v2"
        self.config = folder / "tap-attio.json"
        self.config.write_text(json.dumps({"api_key": ATTIO_KEY, "api_url": self.api_url}))
        self.catalog = _stack.write_json(folder / "tap-attio-catalog.json",
                                         _stack.discover_selecting(self.tap, self.config, {"people"}))
        self.expected = self.people_ids()

    def people_ids(self) -> dict:
        """Every person's record_id, read with a bare loop: what a correct load must hold."""
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {ATTIO_KEY}"
        ids, offset = [], 0
        while True:
            page = session.post(f"{self.api_url}/objects/people/records/query",
                                json={"limit": 500, "offset": offset}, timeout=600).json()["data"]
            ids += [person["id"]["record_id"] for person in page]
            if len(page) < 500:
                break
            offset += 500
        return {"rows": len(ids), "ids_md5": hashlib.md5(",".join(sorted(ids)).encode()).hexdigest()}


class Ga4Pipe(Pipe):
    """tap-ga4 reading the GA4 simulator: the wide per-session report of bench/ga4_tap.py (~300 B rows)."""

    label, key = "tap-ga4", "row_key"

    def __init__(self, folder: Path, days: int) -> None:
        import _stack
        import ga4_tap  # the GA4 benchmark's simulator start-up, report and bare loop, reused

        self.table = ga4_tap.REPORT["name"]
        self.tap = _stack.tap_executable("tap-ga4")
        key_file = folder / "ga4-key.json"
        simulator = ga4_tap.start_simulator(1.0, key_file)
        self.proc, base = simulator.proc, simulator.url
        end = dt.date.fromisoformat(ga4_tap.TODAY) - dt.timedelta(days=1)
        start = end - dt.timedelta(days=days - 1)
        self.config = folder / "tap-ga4.json"
        self.config.write_text(json.dumps({
            "property_ids": [ga4_tap.PROPERTY], "api_url": f"{base}/ga4", "service_account_key": str(key_file),
            "reports": [ga4_tap.REPORT], "start_date": start.isoformat(), "end_date": end.isoformat(),
            "window_days": 30, "page_size": 100_000}))
        self.catalog = _stack.write_json(folder / "tap-ga4-catalog.json",
                                         _stack.discover_selecting(self.tap, self.config, {self.table}))
        token = simulator.control("POST", "token", {})["access_token"]
        # the bare loop over the same report pages: the row count a correct load must hold (and
        # the simulator builds its days and its answer cache here, as in bench/ga4_tap.py)
        self.expected = {"rows": ga4_tap.ceiling(base, token, ga4_tap.windows(start, end, 30), 100_000)["rows"]}


# -- the run ------------------------------------------------------------------------------------------
def print_pipe(round_number: int, pipe: Pipe, name: str, r: dict) -> None:
    print(f"  round {round_number + 1}: {pipe.label} -> {name:24} {r['records_per_s']:>9,.0f} records/s, "
          f"CPU bound {r['cpu_bound_records_per_s']:,}/s  check ok={r['check']['ok']} "
          f"content md5 {r['check'].get('content_md5')}\n      {describe_cpu(r)}")


def median_of(runs: list[dict]) -> float:
    return statistics.median(r["records_per_s"] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--people", type=int, default=100_000, help="Attio people for the tap -> target pipe")
    ap.add_argument("--stock-runs", type=int, default=1,
                    help="rounds that also run the stock target (slow: ~1-3 min each for 200k records)")
    ap.add_argument("--ga4-days", type=int, default=0,
                    help="also pipe tap-ga4's per-session report over this many days into the tuned target "
                         "(365 gives ~163,000 rows); 0: not run")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    # the tuned load cannot be left out: the COPY ceiling copies the rows it landed
    ap.add_argument("--skip", nargs="*", default=[], choices=[*(n for n in TARGETS if n != "tuned"), "pipe", "pipe_stock"],
                    help="leave these out (pipe: every tap -> target pipe; pipe_stock: the pipe into the stock target)")
    a = ap.parse_args()
    if not (TARGET_BIN / "target-postgres-wrapper").exists():
        raise SystemExit("The loader is not installed: run `make install` first.")
    folder = Path(tempfile.mkdtemp(prefix="target-bench-"))
    wh = Warehouse(folder / "warehouse")
    wh.start()
    sys.path.insert(0, str(ROOT / "bench"))   # the tap benchmarks' simulator start-ups, reused
    pipe = ga4 = None
    runs: dict[str, list[dict]] = {"copy_jsonb_array": [], "copy_jsonb": [], **{n: [] for n in TARGETS if n not in a.skip}}
    try:
        messages = folder / "messages.jsonl"
        expected = write_messages(messages, a.records)
        size = messages.stat().st_size
        print(f"{a.records:,} order-like records, {size / a.records:.0f} B per RECORD line on average")
        if "pipe" not in a.skip:
            pipe = AttioPipe(folder, a.people)
            runs["pipe_stock_project_settings"], runs["pipe_tuned"] = [], []
            print(f"Attio simulator up: {pipe.expected['rows']:,} people")
        if a.ga4_days and "pipe" not in a.skip:
            ga4 = Ga4Pipe(folder, a.ga4_days)
            runs["pipe_ga4_tuned"] = []
            print(f"GA4 simulator up: {ga4.expected['rows']:,} report rows")
        for round_number in range(a.runs):
            for name in TARGETS:
                if name in a.skip or (name.startswith("stock") and round_number >= a.stock_runs):
                    continue
                r = run_target(wh, folder, name, messages, expected)
                runs[name].append(r)
                print(f"  round {round_number + 1}: {name:24} {r['records_per_s']:>9,.0f} records/s "
                      f"({r['records_per_cpu_s']:,.0f} per CPU-second)  check ok={r['check']['ok']}")
            # the ceiling COPYs the rows the tuned target just landed
            for nested_as, key in (("jsonb[]", "copy_jsonb_array"), ("jsonb", "copy_jsonb")):
                r = copy_ceiling(wh, nested_as)
                runs[key].append(r)
                print(f"  round {round_number + 1}: COPY, nested arrays as {nested_as:7} {r['records_per_s']:>9,.0f} records/s  ok={r['ok']}")
            if pipe:
                for name in ("stock_project_settings", "tuned"):
                    if name.startswith("stock") and (round_number >= a.stock_runs or "pipe_stock" in a.skip):
                        continue
                    r = pipe.run(wh, folder, name)
                    runs[f"pipe_{name}"].append(r)
                    print_pipe(round_number, pipe, name, r)
            if ga4:
                r = ga4.run(wh, folder, "tuned")
                runs["pipe_ga4_tuned"].append(r)
                print_pipe(round_number, ga4, "tuned", r)
    finally:
        for started in (pipe, ga4):
            if started:
                started.stop()
        wh.stop()
        shutil.rmtree(folder, ignore_errors=True)

    ceiling = median_of(runs["copy_jsonb_array"])
    figures = {name: {"records_per_s": round(median_of(r)), "vs_copy": round(median_of(r) / ceiling, 4),
                      "runs": len(r),
                      **({"records_per_cpu_s": round(statistics.median(x["records_per_cpu_s"] for x in r))}
                         if "records_per_cpu_s" in r[0] else {}),
                      **({"cpu_us_per_record": {k: round(statistics.median(x["cpu_us_per_record"][k] for x in r), 1)
                                                for k in r[0]["cpu_us_per_record"]},
                          "cpu_bound_records_per_s": round(statistics.median(x["cpu_bound_records_per_s"] for x in r))}
                         if "cpu_us_per_record" in r[0] else {}),
                      "checks_ok": all((x.get("check") or {"ok": x.get("ok")})["ok"] for x in r),
                      "seconds": [round(x["seconds"], 2) for x in r]}
               for name, r in runs.items() if r}
    result = {
        "command": " ".join([".venv/bin/python", "bench/target_postgres.py", *sys.argv[1:]]),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "records": a.records, "bytes_per_record_line": round(size / a.records), "runs": a.runs,
        "attio_people": pipe.expected["rows"] if pipe else None,
        "ga4_rows": ga4.expected["rows"] if ga4 else None,
        "ceiling": "copy_jsonb_array (COPY of the landed rows, nested arrays as jsonb[] as they land)",
        "figures": figures,
        # what landing nested arrays as jsonb instead of jsonb[] would save, per 200k-record load:
        # PostgreSQL's side is the COPY difference; Python's side was profiled (bench/RESULTS.md)
        "copy_seconds_jsonb_array_vs_jsonb": [round(statistics.median(x["seconds"] for x in runs["copy_jsonb_array"]), 3),
                                              round(statistics.median(x["seconds"] for x in runs["copy_jsonb"]), 3)],
        "expected": expected,
        # landed content (every column but _sdc_*) of each pipe's runs: one checksum each when
        # every run of that pipe landed the same
        "pipe_content_md5s": {k: sorted({str(x["check"].get("content_md5")) for x in r})
                              for k, r in runs.items() if k.startswith("pipe") and r},
        "raw": runs,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\n{'what':32} {'records/s':>10} {'vs COPY':>8} {'per CPU-s':>10}  runs  checks")
    for name, f in figures.items():
        print(f"{name:32} {f['records_per_s']:>10,} {f['vs_copy']:>8.1%} {f.get('records_per_cpu_s', ''):>10}  "
              f"{f['runs']:>4}  {'ok' if f['checks_ok'] else 'FAILED'}")
    for name, f in figures.items():
        if "cpu_us_per_record" in f:
            print(f"{name}: {describe_cpu(f)}; on {os.cpu_count()} cores at most {f['cpu_bound_records_per_s']:,} records/s")
    for name, md5s in result["pipe_content_md5s"].items():
        print(f"landed content, {name}: {'the same in every run' if len(md5s) == 1 else 'DIFFERS between runs'} "
              f"({', '.join(md5s)})")
    print(f"\nwritten to {a.out}")


if __name__ == "__main__":
    main()
