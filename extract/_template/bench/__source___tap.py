"""Benchmark: tap-__source__'s records/s against the ceiling of a bare requests+json loop.

Starts the __Source__ simulator (extract/sandbox/tributary_sandbox/vendors/__source__/) alone in
its own process with `--records` customers, then, alternating, `--runs` times each:
  * ceiling: a bare `requests` + `json` loop over exactly the pages the tap reads (GET /customers,
    limit 100, cursor paging);
  * tap: `tap-__source__` (its Meltano plugin venv, as `meltano run` starts it), its stdout read and
    its RECORD lines counted here, nothing loaded.
Prints medians (records/s, the tap's share of the ceiling, requests per 1,000 records), writes
bench/results/__source___tap.json and its section of bench/RESULTS.md (replaced on every run).

    .venv/bin/python bench/__source___tap.py [--records 50000] [--runs 3]

Run `make install` (or `meltano install --plugin-type extractor tap-__source__`) first. Not a
test: it prints figures and never fails on them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
NAME = "__source__"
RESULTS_JSON = ROOT / "bench" / "results" / f"{NAME}_tap.json"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
TAP = ROOT / ".meltano" / "extractors" / f"tap-{NAME}" / "venv" / "bin" / f"tap-{NAME}"
TOKEN = f"sandbox-{NAME}-token"
PAGE = 100
PEOPLE_PER_SCALE = 600   # world.py: people = round(600 * scale); the simulator serves one customer each


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(records: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "extract" / "sandbox")}
    proc = subprocess.Popen([sys.executable, "-m", "tributary_sandbox", "one", NAME, "--port", str(port),
                             "--scale", f"{records / PEOPLE_PER_SCALE:.6f}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    api_url = f"http://127.0.0.1:{port}/{NAME}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            requests.get(f"{api_url}/customers?limit=1", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            return proc, api_url
        except requests.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the simulator did not start: " + proc.stderr.read().decode()[-2000:])


def ceiling(api_url: str) -> dict:
    """The bare loop: the same requests, a JSON parse, nothing else."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
    cursor, records, pages = None, 0, 0
    started = time.perf_counter()
    while True:
        params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = session.get(f"{api_url}/customers", params=params)
        response.raise_for_status()
        body = json.loads(response.content)
        records += len(body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    seconds = time.perf_counter() - started
    return {"records": records, "seconds": seconds, "records_per_s": records / seconds, "requests": pages}


def run_tap(config: Path) -> dict:
    """The tap as Meltano starts it; records/s from the first to the last RECORD it writes."""
    log = config.with_name("tap.log")   # a file, not a pipe: an unread pipe would stall the tap
    started = time.perf_counter()
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([str(TAP), "--config", str(config)], stdout=subprocess.PIPE,
                                stderr=log_file, bufsize=1 << 20)
        records, first, last = 0, None, None
        for line in proc.stdout:
            if line.startswith(b'{"type":"RECORD"') or line.startswith(b'{"type": "RECORD"'):
                records += 1
                last = time.perf_counter()
                first = first or last
        returncode = proc.wait()
    stderr = log.read_text(errors="replace")
    if returncode != 0:
        raise SystemExit(f"tap-{NAME} failed:\n{stderr[-2000:]}")
    requests_made = sum(int(m) for m in re.findall(r'"metric":\s*"http_request_count",\s*"value":\s*(\d+)', stderr))
    streaming = (last - first) if records > 1 else float("nan")
    return {"records": records, "records_per_s": (records - 1) / streaming if records > 1 else 0.0,
            "records_per_s_end_to_end": records / (time.perf_counter() - started), "requests": requests_made}


def write_section(result: dict, command: str) -> None:
    """This benchmark's section of bench/RESULTS.md, between its markers, replaced on every run."""
    begin, end = f"<!-- {NAME}_tap begin -->", f"<!-- {NAME}_tap end -->"
    section = "\n".join([
        begin,
        f"## __Source__ (our tap-__source__, made from the source template)",
        "",
        f"`{command}` — {result['records']:,} customers, {PAGE} per page; medians of {result['runs']} alternating runs.",
        "",
        "| what | records/s | vs ceiling |",
        "| --- | --- | --- |",
        f"| ceiling: bare `requests` + `json` loop over the same pages | {result['ceiling_records_per_s']:,.0f} | 1 |",
        f"| the tap, first to last record | {result['tap_records_per_s']:,.0f} | {result['tap_vs_ceiling']:.0%} |",
        f"| the tap, end to end (process start included) | {result['tap_records_per_s_end_to_end']:,.0f} | |",
        f"| API requests per 1,000 records | {result['requests_per_1000_records']:.1f} | |",
        end,
    ])
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Figures\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS_MD.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not TAP.exists():
        raise SystemExit(f"{TAP.relative_to(ROOT)} is missing: run `make install` first")
    proc, api_url = start_simulator(args.records)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "config.json"
            config.write_text(json.dumps({"api_url": api_url, "api_token": TOKEN, "page_size": PAGE}))
            ceilings, taps = [], []
            for _ in range(args.runs):
                ceilings.append(ceiling(api_url))
                taps.append(run_tap(config))
    finally:
        proc.terminate()
        proc.wait(10)
    records = ceilings[0]["records"]
    if any(t["records"] != records for t in taps):
        raise SystemExit(f"the tap read {[t['records'] for t in taps]} records, the bare loop {records}")
    ceiling_rps = statistics.median(c["records_per_s"] for c in ceilings)
    tap_rps = statistics.median(t["records_per_s"] for t in taps)
    command = "python bench/" + Path(__file__).name + f" --records {args.records} --runs {args.runs}"
    result = {
        "benchmark": f"{NAME}_tap", "command": command, "records": records, "runs": args.runs,
        "ceiling_records_per_s": round(ceiling_rps), "tap_records_per_s": round(tap_rps),
        "tap_records_per_s_end_to_end": round(statistics.median(t["records_per_s_end_to_end"] for t in taps)),
        "tap_vs_ceiling": round(tap_rps / ceiling_rps, 4),
        "requests_per_1000_records": round(1000 * statistics.median(t["requests"] for t in taps) / records, 2),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(result, indent=1) + "\n")
    write_section(result, command)
    print(f"tap-{NAME}: {records:,} records, medians of {args.runs} runs")
    print(f"  ceiling (bare requests + json)  {ceiling_rps:>10,.0f} records/s")
    print(f"  tap, first to last record       {tap_rps:>10,.0f} records/s  ({tap_rps / ceiling_rps:.0%} of the ceiling)")
    print(f"  requests per 1,000 records      {result['requests_per_1000_records']:>10.1f}")
    print(f"written: {RESULTS_JSON.relative_to(ROOT)} and its section of {RESULTS_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
