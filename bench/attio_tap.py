"""Benchmark: tap-attio's records/s against the ceiling of a bare requests+json loop.

Starts the Attio simulator (extract/sandbox, tributary_sandbox.attio) in its own process at a
large size (default 100,000 people), then, alternating, N times each:
  * ceiling: a bare `requests` + `json` loop over exactly the pages the tap reads
    (POST /objects/people/records/query, limit 500, offset paging, same sort);
  * tap: `tap-attio --catalog` with only `people` selected, its stdout read and counted here
    (lines and RECORD messages), nothing written anywhere.
The bare loop runs twice per round: with `json.loads` (the ceiling, as STACK.md defines it)
with `msgspec.json.decode` (the parser the tap itself uses) and with msgspec while the GC is
paused (as the tap parses), so every ratio is shown: the tap uses both tricks, the STACK.md
ceiling neither.
Reports medians: records/s (tap: from its first to its last RECORD line, and end to end with
process start and discovery), the ratio to the ceiling, requests per 1,000 records, and
whether sampled RECORDs match the SCHEMA the tap declared. Writes bench/results/attio_tap.json.

Run with the project venv after `make install` (the tap comes from its Meltano plugin venv):
    .venv/bin/python bench/attio_tap.py [--people 100000] [--runs 3]
Not a test: it prints figures and never fails on them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_SRC = ROOT / "extract" / "sandbox"
RESULTS = ROOT / "bench" / "results" / "attio_tap.json"
API_KEY = "sandbox-attio-api-key"
PEOPLE_PER_SCALE = 600   # world.py: people = round(600 * scale)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(people: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    scale = people / PEOPLE_PER_SCALE
    env = {**os.environ, "PYTHONPATH": f"{SANDBOX_SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tributary_sandbox.attio", "--port", str(port), "--scale", f"{scale:.6f}",
         "--today", "2026-11-25", "--no-rate-limit"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/_sandbox/attio/counts", timeout=300).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise SystemExit("simulator did not start: " + proc.stderr.read().decode()[-2000:])
    return proc, base


def request_count(base: str) -> int:
    return requests.get(f"{base}/_sandbox/attio/requests", timeout=30).json().get("records_query", 0)


def ceiling(api_url: str, parse=json.loads) -> dict:
    """The bare loop: same endpoint, body, page size and a JSON parse, nothing else."""
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"})
    offset, n, pages = 0, 0, 0
    t0 = time.perf_counter()
    while True:
        r = s.post(f"{api_url}/objects/people/records/query",
                   json={"limit": 500, "offset": offset, "sorts": [{"attribute": "created_at", "direction": "asc"}]})
        r.raise_for_status()
        data = parse(r.content)["data"]
        n += len(data)
        pages += 1
        if len(data) < 500:
            break
        offset += 500
    secs = time.perf_counter() - t0
    return {"records": n, "seconds": secs, "records_per_s": n / secs, "pages": pages}


def nogc(parse):
    """The parse with the cyclic GC paused, as the tap does it."""
    import gc

    def wrapped(data: bytes):
        gc.disable()
        try:
            return parse(data)
        finally:
            gc.enable()
    return wrapped


def run_tap(exe: str, config: Path, catalog: Path, samples: list) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "--config", str(config), "--catalog", str(catalog)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20)
    lines = records = 0
    first = last = None
    schema = None
    for line in proc.stdout:
        lines += 1
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
            now = time.perf_counter()
            if first is None:
                first = now
            last = now
            if records % 997 == 1:
                samples.append(line)
        elif schema is None and line.startswith(b'{"type":"SCHEMA"'):
            schema = json.loads(line)["schema"]
    rc = proc.wait()
    total = time.perf_counter() - t0
    span = (last - first) if first and last and last > first else total
    return {"rc": rc, "lines": lines, "records": records, "seconds_total": total,
            "seconds_records": span, "records_per_s": records / span if span else 0.0,
            "records_per_s_end_to_end": records / total if total else 0.0, "schema": schema}


def check_schema(schema: dict, samples: list) -> dict:
    from jsonschema import Draft7Validator
    v = Draft7Validator(schema)
    bad = []
    for line in samples:
        rec = json.loads(line)["record"]
        errs = [e.message for e in v.iter_errors(rec)]
        extra = sorted(set(rec) - set(schema["properties"]))
        if errs or extra:
            bad.append({"record_id": rec.get("record_id"), "errors": errs[:3], "undeclared": extra})
    return {"sampled": len(samples), "mismatches": len(bad), "examples": bad[:3]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-requests-per-second", type=float, default=80,
                    help="the tap's throttle (its default, 80; Attio allows 100)")
    a = ap.parse_args()
    plugin_venv = ROOT / ".meltano" / "extractors" / "tap-attio" / "venv" / "bin"
    exe = (shutil.which("tap-attio", path=str(plugin_venv))
           or shutil.which("tap-attio", path=str(Path(sys.executable).parent)) or shutil.which("tap-attio"))
    if not exe:
        raise SystemExit("tap-attio is not installed in this Python's environment")

    proc, base = start_simulator(a.people)
    api_url = f"{base}/attio/v2"
    try:
        requests.post(f"{api_url}/objects/people/records/query", json={"limit": 1},
                      headers={"Authorization": f"Bearer {API_KEY}"}, timeout=600).raise_for_status()  # build
        tmp = Path(tempfile.mkdtemp(prefix="attio-bench-"))
        config = tmp / "config.json"
        config.write_text(json.dumps({"api_key": API_KEY, "api_url": api_url,
                                      "max_requests_per_second": a.max_requests_per_second}))
        catalog = json.loads(subprocess.run([exe, "--config", str(config), "--discover"], capture_output=True,
                                            check=True).stdout)
        for entry in catalog["streams"]:
            for md in entry["metadata"]:
                if md["breadcrumb"] == []:
                    md["metadata"]["selected"] = entry["tap_stream_id"] == "people"
        (tmp / "catalog.json").write_text(json.dumps(catalog))

        import msgspec
        ceilings, fast_ceilings, best_ceilings, taps, samples, per_1000 = [], [], [], [], [], []
        ceiling(api_url)   # warm the server's and the OS's caches once
        for _ in range(a.runs):
            ceilings.append(ceiling(api_url))
            # the tap parses with msgspec: also show the bare loop with that parser, for honesty
            fast_ceilings.append(ceiling(api_url, msgspec.json.decode))
            best_ceilings.append(ceiling(api_url, nogc(msgspec.json.decode)))
            before = request_count(base)
            t = run_tap(exe, config, tmp / "catalog.json", samples)
            per_1000.append((request_count(base) - before) / t["records"] * 1000 if t["records"] else None)
            taps.append(t)
        schema = taps[0].pop("schema")
        for t in taps[1:]:
            t.pop("schema")
        check = check_schema(schema, samples)
    finally:
        proc.terminate()
        proc.wait(10)

    ceil = statistics.median(c["records_per_s"] for c in ceilings)
    fast = statistics.median(c["records_per_s"] for c in fast_ceilings)
    best = statistics.median(c["records_per_s"] for c in best_ceilings)
    tap_rps = statistics.median(t["records_per_s"] for t in taps)
    tap_e2e = statistics.median(t["records_per_s_end_to_end"] for t in taps)
    result = {
        "command": " ".join([Path(sys.executable).name, "bench/attio_tap.py", *sys.argv[1:]]),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "people_records": taps[0]["records"],
        "runs": a.runs,
        "ceiling_records_per_s": round(ceil),
        "ceiling_msgspec_records_per_s": round(fast),
        "tap_records_per_s": round(tap_rps),
        "tap_vs_ceiling_msgspec": round(tap_rps / fast, 3),
        "ceiling_msgspec_nogc_records_per_s": round(best),
        "tap_vs_ceiling_msgspec_nogc": round(tap_rps / best, 3),
        "tap_vs_ceiling": round(tap_rps / ceil, 3),
        "tap_records_per_s_end_to_end": round(tap_e2e),
        "tap_end_to_end_vs_ceiling": round(tap_e2e / ceil, 3),
        "requests_per_1000_records": round(statistics.median(x for x in per_1000 if x is not None), 3),
        "tap_max_requests_per_second": a.max_requests_per_second,
        "schema_check": check,
        "all_tap_runs_ok": all(t["rc"] == 0 and t["records"] == ceilings[0]["records"] for t in taps),
        "ceiling_runs": ceilings,
        "ceiling_msgspec_runs": fast_ceilings,
        "ceiling_msgspec_nogc_runs": best_ceilings,
        "tap_runs": taps,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"people records            {result['people_records']:,}")
    print(f"ceiling (requests+json)   {result['ceiling_records_per_s']:,} records/s")
    print(f"same loop, msgspec parse  {result['ceiling_msgspec_records_per_s']:,} records/s")
    print(f"same, GC paused in parse  {result['ceiling_msgspec_nogc_records_per_s']:,} records/s")
    print(f"tap-attio (records phase) {result['tap_records_per_s']:,} records/s = "
          f"{result['tap_vs_ceiling']:.0%} of the ceiling, "
          f"{result['tap_vs_ceiling_msgspec']:.0%} of the msgspec loop, "
          f"{result['tap_vs_ceiling_msgspec_nogc']:.0%} of the msgspec+no-GC loop")
    print(f"tap-attio (end to end)    {result['tap_records_per_s_end_to_end']:,} records/s = "
          f"{result['tap_end_to_end_vs_ceiling']:.0%} (process start + discovery included)")
    print(f"requests per 1,000 records {result['requests_per_1000_records']}")
    print(f"schema check: {check['mismatches']} mismatches in {check['sampled']} sampled records")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
