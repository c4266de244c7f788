"""QuickBooks benchmark: the tap's records/s against its ceiling, requests per 1,000 records,
and what Meltano adds to a run.

    .venv/bin/python bench/quickbooks.py [--scale 10] [--repeat 3]

Starts a sandbox and a warehouse of its own (free ports, under .bench-run/: bench/_stack.py),
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
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _stack
from _stack import ROOT, BIN, PrivateStack

RUN_DIR = ROOT / ".bench-run"
TAP_VENV = ROOT / ".meltano" / "extractors" / "tap-quickbooks" / "venv" / "bin"
TARGET_VENV = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
CATALOG = ROOT / "extract" / "quickbooks" / "catalog.json"
STATE_ID = "dev:tap-quickbooks-to-target-postgres"
START_DATE = "2024-01-01T00:00:00Z"
CREDENTIALS = {"realm_id": "9130350000000001", "client_id": "sandbox-client-id",
               "client_secret": "sandbox-client-secret", "refresh_token": "sandbox-refresh-token-0"}


def request_count(stack: PrivateStack) -> int:
    log = stack.sandbox("GET", "/_sandbox/requests?since=0", timeout=300)
    return sum(1 for entry in log if not entry["path"].startswith("/_sandbox"))


def tap_config(stack: PrivateStack) -> Path:
    """The tap's settings as the dev environment gives them on this stack."""
    return _stack.write_json(stack.run_dir / "qb-tap-config.json", {
        **CREDENTIALS, "start_date": START_DATE, "user_agent": "bench", "max_results": 1000,
        "https_proxy": f"http://127.0.0.1:{stack.sandbox_proxy_port}", "ca_bundle": str(stack.sandbox_ca_bundle),
        "token_store_path": str(stack.quickbooks_token_store)})


def target_config(stack: PrivateStack) -> Path:
    """The loader's settings as load/loaders.meltano.yml gives them, for QuickBooks' schema."""
    return _stack.write_json(stack.run_dir / "qb-target-config.json", {
        "host": "127.0.0.1", "port": stack.warehouse_port, "user": "tributary", "password": "tributary-dev",
        "database": "warehouse", "default_target_schema": "raw_quickbooks", "use_copy": True,
        "add_record_metadata": True})


def run_tap_once(stack: PrivateStack, scale: float) -> tuple[float, int, int]:
    """(seconds, records, API requests) for one full sync by the wrapped tap."""
    stack.sandbox("POST", "/_sandbox/reset", {"scale": scale}, timeout=300)
    stack.quickbooks_token_store.unlink(missing_ok=True)
    run = _stack.run_tap(str(TAP_VENV / "tap-quickbooks-wrapper"), tap_config(stack), CATALOG, env=stack.env())
    if run.returncode != 0:
        sys.exit("the tap failed: run it by hand to see why")
    return run.seconds_total, run.records, request_count(stack)


def run_ceiling_once(stack: PrivateStack, scale: float) -> tuple[float, int]:
    """The same pages, fetched and parsed by a bare loop through the same proxy."""
    stack.sandbox("POST", "/_sandbox/reset", {"scale": scale}, timeout=300)
    return ceiling_pages(stack)


def ceiling_pages(stack: PrivateStack, refresh_token: str = CREDENTIALS["refresh_token"]) -> tuple[float, int]:
    """(seconds, records) of the bare loop over the sandbox's books as they are now (no reset; a
    sandbox that has rotated its tokens wants its current one: GET /_sandbox/quickbooks/tokens)."""
    import requests  # the project venv has it (Meltano depends on it)

    catalog = json.loads(CATALOG.read_text())
    selected = [s["tap_stream_id"] for s in catalog["streams"]
                if any(not m["breadcrumb"] and m["metadata"].get("selected") for m in s["metadata"])]
    sys.path.insert(0, str(next((TAP_VENV.parent / "lib").glob("python3*/site-packages"))))
    from tap_quickbooks.streams import BATCH_STREAMS  # the tap's own table names and filters

    session = requests.Session()
    session.trust_env = False  # else this machine's REQUESTS_CA_BUNDLE overrides `verify`
    session.proxies = {"https": f"http://127.0.0.1:{stack.sandbox_proxy_port}"}
    session.verify = str(stack.sandbox_ca_bundle)
    base = f"https://quickbooks.api.intuit.com/v3/company/{CREDENTIALS['realm_id']}"
    started = time.perf_counter()
    token = session.post("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
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


def meltano_overhead(stack: PrivateStack, repeat: int) -> dict:
    """A no-change incremental run, with and without Meltano around the same two programs: the tap
    piped into the loader by hand, from the state the last `meltano run` left (also used by
    bench/end_to_end.py)."""
    env = stack.env()
    state = json.loads(subprocess.run([str(BIN / "meltano"), "state", "get", STATE_ID], cwd=ROOT, env=env,
                                      capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    state_file = _stack.write_json(stack.run_dir / "qb-state.json", state.get("singer_state", state))
    by_hand_cmd = (f"'{TAP_VENV}/tap-quickbooks-wrapper' --config '{tap_config(stack)}' --catalog '{CATALOG}'"
                   f" --state '{state_file}' | '{TARGET_VENV}/target-postgres-wrapper' --config '{target_config(stack)}'"
                   " > /dev/null")
    with_meltano, by_hand = [], []
    for _ in range(repeat):  # alternate, so machine load drifts hit both alike
        started = time.perf_counter()
        subprocess.run([str(BIN / "meltano"), "run", "tap-quickbooks", "target-postgres"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        with_meltano.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run(["bash", "-o", "pipefail", "-c", by_hand_cmd], env=env, check=True, capture_output=True)
        by_hand.append(time.perf_counter() - started)
    return {"meltano_run_s": round(statistics.median(with_meltano), 2),
            "same_pipe_by_hand_s": round(statistics.median(by_hand), 2),
            "meltano_overhead_s": round(statistics.median(with_meltano) - statistics.median(by_hand), 2),
            "how": f"no-change incremental QuickBooks run, medians of {repeat} alternating runs"}


def first_sync(stack: PrivateStack) -> None:
    """A small world's full sync under `meltano run`, so the overhead runs after it change nothing."""
    stack.sandbox("POST", "/_sandbox/reset", {"scale": 1}, timeout=300)
    stack.quickbooks_token_store.unlink(missing_ok=True)
    subprocess.run([str(BIN / "meltano"), "run", "tap-quickbooks", "target-postgres"], cwd=ROOT, env=stack.env(),
                   check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with _stack.private_stack(RUN_DIR, "--scale", f"{args.scale:g}") as stack:
        taps, ceilings = [], []
        for _ in range(args.repeat):  # alternate, so machine load drifts hit both alike
            taps.append(run_tap_once(stack, args.scale))
            ceilings.append(run_ceiling_once(stack, args.scale))
        tap_s = statistics.median(t[0] for t in taps)
        records, requests_made = taps[0][1], taps[0][2]
        ceiling_s = statistics.median(c[0] for c in ceilings)
        first_sync(stack)
        result = {
            **_stack.result_header(args),
            "records": records,
            "tap_records_per_s": round(records / tap_s),
            "ceiling_records_per_s": round(ceilings[0][1] / ceiling_s),
            "tap_vs_ceiling": round((records / tap_s) / (ceilings[0][1] / ceiling_s), 3),
            "api_requests": requests_made,
            "api_requests_per_1000_records": round(requests_made / records * 1000, 2),
            **meltano_overhead(stack, args.repeat),
        }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    _stack.write_results(result, _stack.RESULTS_DIR / "quickbooks.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
