"""QuickBooks benchmark: the tap's records/s against its ceiling, requests per 1,000 records,
and what Meltano adds to a run.

    .venv/bin/python bench/quickbooks.py [--scale 10] [--repeat 3]

Starts a sandbox and a warehouse of its own (ports 8795/8796 and 55452, under .bench-run/),
so it never disturbs the demo. Prints the figures and writes bench/results/quickbooks.json.

- tap: the tap as Meltano runs it (our wrapper around the unmodified tap-quickbooks), all
  selected streams, a first full sync, its Singer output counted and thrown away.
- ceiling: a bare `requests` + `json` loop asking the sandbox for exactly the same pages (the
  same batch queries, report windows and change-data-capture call) through the same proxy.
- meltano overhead: `meltano run tap-quickbooks target-postgres` minus the same tap piped into
  the same target by hand, on a no-change incremental run (medians).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".bench-run"
BIN = ROOT / ".venv" / "bin"
TAP_VENV = ROOT / ".meltano" / "extractors" / "tap-quickbooks" / "venv" / "bin"
TARGET_VENV = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
SANDBOX_PORT, PROXY_PORT, WAREHOUSE_PORT = 8795, 8796, 55452
START_DATE = "2024-01-01T00:00:00Z"
CREDENTIALS = {"realm_id": "9130350000000001", "client_id": "sandbox-client-id",
               "client_secret": "sandbox-client-secret", "refresh_token": "sandbox-refresh-token-0"}


def env() -> dict[str, str]:
    return {**os.environ,
            "SANDBOX_STATE_DIR": str(RUN_DIR / "sandbox"), "SANDBOX_PORT": str(SANDBOX_PORT),
            "SANDBOX_PROXY_PORT": str(PROXY_PORT),
            "WAREHOUSE_DIR": str(RUN_DIR / "warehouse"), "WAREHOUSE_PORT": str(WAREHOUSE_PORT),
            "MELTANO_DATABASE_URI": f"sqlite:///{RUN_DIR / 'meltano.db'}",
            "XDG_STATE_HOME": str(RUN_DIR / "xdg-state"), "MELTANO_ENVIRONMENT": "dev",
            "TARGET_POSTGRES_PORT": str(WAREHOUSE_PORT), "DBT_PORT": str(WAREHOUSE_PORT),
            "TAP_QUICKBOOKS_HTTPS_PROXY": f"http://127.0.0.1:{PROXY_PORT}",
            "TAP_QUICKBOOKS_CA_BUNDLE": str(RUN_DIR / "sandbox" / "ca.pem"),
            "TAP_QUICKBOOKS_TOKEN_STORE_PATH": str(RUN_DIR / "token.json")}


def sandbox(method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(f"http://127.0.0.1:{SANDBOX_PORT}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read() or b"null")


def request_count() -> int:
    log = sandbox("GET", "/_sandbox/requests?since=0")
    return sum(1 for entry in log if not entry["path"].startswith("/_sandbox"))


def tap_config(path: Path) -> Path:
    path.write_text(json.dumps({**CREDENTIALS, "start_date": START_DATE, "user_agent": "bench",
                                "max_results": 1000, "https_proxy": f"http://127.0.0.1:{PROXY_PORT}",
                                "ca_bundle": str(RUN_DIR / "sandbox" / "ca.pem"),
                                "token_store_path": str(RUN_DIR / "token.json")}))
    return path


def run_tap_once(scale: float) -> tuple[float, int, int]:
    """(seconds, records, API requests) for one full sync by the wrapped tap."""
    sandbox("POST", "/_sandbox/reset", {"scale": scale})
    (RUN_DIR / "token.json").unlink(missing_ok=True)
    config = tap_config(RUN_DIR / "tap-config.json")
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(TAP_VENV / "tap-quickbooks-wrapper"), "--config", str(config),
         "--catalog", str(ROOT / "extract/quickbooks/catalog.json")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env())
    records = sum(1 for line in process.stdout if line.startswith(b'{"type": "RECORD"'))
    if process.wait() != 0:
        sys.exit("the tap failed: run it by hand to see why")
    return time.perf_counter() - started, records, request_count()


def run_ceiling_once(scale: float) -> tuple[float, int]:
    """The same pages, fetched and parsed by a bare loop through the same proxy."""
    import requests  # the project venv has it (Meltano depends on it)

    sandbox("POST", "/_sandbox/reset", {"scale": scale})
    catalog = json.loads((ROOT / "extract/quickbooks/catalog.json").read_text())
    selected = [s["tap_stream_id"] for s in catalog["streams"]
                if any(not m["breadcrumb"] and m["metadata"].get("selected") for m in s["metadata"])]
    sys.path.insert(0, str(next((TAP_VENV.parent / "lib").glob("python3*/site-packages"))))
    from tap_quickbooks.streams import BATCH_STREAMS  # the tap's own table names and filters

    session = requests.Session()
    session.trust_env = False  # else this machine's REQUESTS_CA_BUNDLE overrides `verify`
    session.proxies = {"https": f"http://127.0.0.1:{PROXY_PORT}"}
    session.verify = str(RUN_DIR / "sandbox" / "ca.pem")
    base = f"https://quickbooks.api.intuit.com/v3/company/{CREDENTIALS['realm_id']}"
    started = time.perf_counter()
    token = session.post("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer", data={
        "grant_type": "refresh_token", "refresh_token": CREDENTIALS["refresh_token"],
        "client_id": CREDENTIALS["client_id"], "client_secret": CREDENTIALS["client_secret"]}).json()
    session.headers.update({"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"})
    records = 0
    streams = [BATCH_STREAMS[name] for name in selected if name in BATCH_STREAMS]
    positions = {s.table_name: 1 for s in streams}
    while True:
        items = []
        for s in streams:
            where = f"Metadata.LastUpdatedTime >= '{START_DATE}'" + (f" AND {s.additional_where}" if s.additional_where else "")
            items.append({"bId": s.table_name, "Query": f"SELECT * FROM {s.table_name} WHERE {where} ORDER BY "
                          f"Metadata.LastUpdatedTime ASC STARTPOSITION {positions[s.table_name]} MAXRESULTS 1000"})
        answer = session.post(f"{base}/batch?minorversion=75", json={"BatchItemRequest": items}).json()
        got_any = False
        for item in answer["BatchItemResponse"]:
            rows = item.get("QueryResponse", {}).get(item["bId"], [])
            if rows:
                got_any = True
                records += len(rows)
                positions[item["bId"]] += len(rows)
        if not got_any:
            break
    day = dt.date(2024, 1, 1)
    today = dt.date.today()
    while day < today:
        end = min(day + dt.timedelta(days=29), today)
        report = session.get(f"{base}/reports/ProfitAndLoss", params={
            "summarize_column_by": "Days", "start_date": str(day), "end_date": str(end)}).json()
        records += len([c for c in report["Columns"]["Column"] if c.get("MetaData")])
        day = end + dt.timedelta(days=1)
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")
    session.get(f"{base}/cdc", params={"entities": "Invoice", "changedSince": since}).json()
    return time.perf_counter() - started, records


def meltano_overhead(repeat: int) -> dict:
    """A no-change incremental run, with and without Meltano around the same two programs."""
    e = env()
    sandbox("POST", "/_sandbox/reset", {"scale": 1})
    (RUN_DIR / "meltano.db").unlink(missing_ok=True)
    (RUN_DIR / "token.json").unlink(missing_ok=True)
    subprocess.run([str(BIN / "meltano"), "run", "tap-quickbooks", "target-postgres"], cwd=ROOT, env=e,
                   check=True, capture_output=True)
    state = json.loads(subprocess.run([str(BIN / "meltano"), "state", "get", "dev:tap-quickbooks-to-target-postgres"],
                                      cwd=ROOT, env=e, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    state_file = RUN_DIR / "state.json"
    state_file.write_text(json.dumps(state.get("singer_state", state)))
    target_config = RUN_DIR / "target-config.json"
    target_config.write_text(json.dumps({"host": "127.0.0.1", "port": WAREHOUSE_PORT, "user": "tributary",
                                         "password": "tributary-dev", "database": "warehouse",
                                         "default_target_schema": "raw_quickbooks", "use_copy": True}))
    config = tap_config(RUN_DIR / "tap-config.json")
    direct = (f"'{TAP_VENV}/tap-quickbooks-wrapper' --config '{config}' --catalog '{ROOT}/extract/quickbooks/catalog.json'"
              f" --state '{state_file}' | '{TARGET_VENV}/target-postgres-wrapper' --config '{target_config}' > /dev/null")
    with_meltano, by_hand = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([str(BIN / "meltano"), "run", "tap-quickbooks", "target-postgres"], cwd=ROOT, env=e,
                       check=True, capture_output=True)
        with_meltano.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run(["bash", "-o", "pipefail", "-c", direct], env=e, check=True, capture_output=True)
        by_hand.append(time.perf_counter() - started)
    return {"meltano_run_s": round(statistics.median(with_meltano), 2),
            "same_pipe_by_hand_s": round(statistics.median(by_hand), 2),
            "meltano_overhead_s": round(statistics.median(with_meltano) - statistics.median(by_hand), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir()
    e = env()
    subprocess.run([str(BIN / "python"), "load/warehouse.py", "start"], cwd=ROOT, env=e, check=True)
    subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", "start", "--scale", str(args.scale)],
                   cwd=ROOT, env=e, check=True)
    try:
        taps, ceilings = [], []
        for _ in range(args.repeat):  # alternate, so machine load drifts hit both alike
            taps.append(run_tap_once(args.scale))
            ceilings.append(run_ceiling_once(args.scale))
        tap_s = statistics.median(t[0] for t in taps)
        records, requests_made = taps[0][1], taps[0][2]
        ceiling_s = statistics.median(c[0] for c in ceilings)
        result = {
            "command": f"python bench/quickbooks.py --scale {args.scale:g} --repeat {args.repeat}",
            "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
            "records": records,
            "tap_records_per_s": round(records / tap_s),
            "ceiling_records_per_s": round(ceilings[0][1] / ceiling_s),
            "tap_vs_ceiling": round((records / tap_s) / (ceilings[0][1] / ceiling_s), 3),
            "api_requests": requests_made,
            "api_requests_per_1000_records": round(requests_made / records * 1000, 2),
            **meltano_overhead(args.repeat),
        }
    finally:
        subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", "stop"], cwd=ROOT, env=e)
        subprocess.run([str(BIN / "python"), "load/warehouse.py", "stop"], cwd=ROOT, env=e)
    out = ROOT / "bench" / "results" / "quickbooks.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
