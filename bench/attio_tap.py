"""Benchmark: tap-attio's records/s against the ceiling of a bare requests+json loop.

Starts the Attio simulator (extract/sandbox, tributary_sandbox/vendors/attio) in its own process at a
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
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import requests

import _stack
from _stack import ROOT

RESULTS = ROOT / "bench" / "results" / "attio_tap.json"
API_KEY = "sandbox-attio-api-key"
PEOPLE_PER_SCALE = 600   # world.py: people = round(600 * scale)


def attio_simulator(people: int) -> _stack.Simulator:
    """The Attio simulator alone at `people` people, no rate limit."""
    return _stack.Simulator("attio", "--scale", f"{people / PEOPLE_PER_SCALE:.6f}", "--today", "2026-11-25",
                            "--option", "rate_limit_enabled=0")


def start_simulator(people: int) -> tuple[subprocess.Popen, str]:
    """(process, URL) of attio_simulator(people), for bench/target_postgres.py's tap -> target pipe."""
    sim = attio_simulator(people)
    return sim.proc, sim.url


def request_count(sim: _stack.Simulator) -> int:
    return sim.control("GET", "requests").get("records_query", 0)


def ceiling(api_url: str, parse=json.loads, object: str = "people") -> dict:
    """The bare loop: same endpoint, body, page size and a JSON parse, nothing else (`object`: which
    Attio object's records, people here; bench/end_to_end.py reads every object)."""
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"})
    offset, n, pages = 0, 0, 0
    t0 = time.perf_counter()
    while True:
        r = s.post(f"{api_url}/objects/{object}/records/query",
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


def run_tap(exe: str, config: Path, catalog: Path, samples: list) -> dict:
    """One run of the tap; records/s from its first to its last RECORD, and end to end."""
    run = _stack.run_tap(exe, config, catalog)
    samples += run.samples
    span = run.last_record_at - run.first_record_at if run.records > 1 else run.seconds_total
    return {"rc": run.returncode, "lines": run.lines, "records": run.records, "seconds_total": run.seconds_total,
            "seconds_records": span, "records_per_s": run.records / span if span else 0.0,
            "records_per_s_end_to_end": run.records / run.seconds_total, "schema": run.schema}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-requests-per-second", type=float, default=80,
                    help="the tap's throttle (its default, 80; Attio allows 100)")
    a = ap.parse_args()
    exe = _stack.tap_executable("tap-attio")

    sim = attio_simulator(a.people)
    api_url = f"{sim.url}/attio/v2"
    try:
        requests.post(f"{api_url}/objects/people/records/query", json={"limit": 1},
                      headers={"Authorization": f"Bearer {API_KEY}"}, timeout=600).raise_for_status()  # build
        tmp = Path(tempfile.mkdtemp(prefix="attio-bench-"))
        config = _stack.write_json(tmp / "config.json", {"api_key": API_KEY, "api_url": api_url,
                                                         "max_requests_per_second": a.max_requests_per_second})
        catalog = _stack.write_json(tmp / "catalog.json", _stack.discover_selecting(exe, config, {"people"}))

        import msgspec
        ceilings, fast_ceilings, best_ceilings, taps, samples, per_1000 = [], [], [], [], [], []
        ceiling(api_url)   # warm the server's and the OS's caches once
        for _ in range(a.runs):
            ceilings.append(ceiling(api_url))
            # the tap parses with msgspec: also show the bare loop with that parser, for honesty
            fast_ceilings.append(ceiling(api_url, msgspec.json.decode))
            best_ceilings.append(ceiling(api_url, _stack.nogc(msgspec.json.decode)))
            before = request_count(sim)
            t = run_tap(exe, config, catalog, samples)
            per_1000.append((request_count(sim) - before) / t["records"] * 1000 if t["records"] else None)
            taps.append(t)
        schema = taps[0].pop("schema")
        for t in taps[1:]:
            t.pop("schema")
        check = _stack.check_schema(schema, samples, "record_id")
    finally:
        sim.stop()

    ceil = statistics.median(c["records_per_s"] for c in ceilings)
    fast = statistics.median(c["records_per_s"] for c in fast_ceilings)
    best = statistics.median(c["records_per_s"] for c in best_ceilings)
    tap_rps = statistics.median(t["records_per_s"] for t in taps)
    tap_e2e = statistics.median(t["records_per_s_end_to_end"] for t in taps)
    result = {
        **_stack.result_header(a),
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
    _stack.write_results(result, RESULTS)


if __name__ == "__main__":
    main()
