"""Gather every benchmark's results into one file with the machine's facts.

    .venv/bin/python bench/summary.py

Reads bench/results/*.json (each written by its own script under bench/), writes
bench/results/summary.json (the machine, then each benchmark's command, time and headline
figures) and rewrites the "Latest `make bench`" table between the markers in bench/RESULTS.md.
`make bench` runs it last, after every benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import _stack
from _stack import ROOT

RESULTS = _stack.RESULTS_DIR
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"

# The figures each benchmark is read for (the whole file stays in bench/results/).
HEADLINES = {
    "end_to_end": ("records_loaded", "full_sync_and_models_s", "end_to_end_vs_ceiling", "goals_met",
                   "records_per_s_end_to_end", "ga4_quota_tokens_per_1000_rows", "shopify_cost_points_per_1000_orders"),
    "quickbooks": ("records", "tap_records_per_s", "tap_vs_ceiling", "api_requests_per_1000_records",
                   "meltano_overhead_s"),
    "attio_tap": ("people_records", "tap_records_per_s_end_to_end", "tap_end_to_end_vs_ceiling",
                  "requests_per_1000_records"),
    "ga4_tap": ("rows", "tap_rows_per_s_end_to_end", "tap_end_to_end_vs_ceiling"),
    "shopify_tap": ("orders", "line_items"),
}


def postgresql_version() -> str | None:
    """The installed server's version (the benchmarks' warehouses are stopped by now)."""
    pg = shutil.which("postgres") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))), None)
    return subprocess.run([str(pg), "--version"], capture_output=True, text=True).stdout.strip() if pg else None


def headline(name: str, data: dict) -> dict:
    if "figures" in data:   # bench/target_postgres.py: the median records/s of each load it ran
        return {f"{k} records/s": f["records_per_s"] for k, f in data["figures"].items()}
    keys = HEADLINES.get(name) or [k for k, v in data.items() if isinstance(v, (int, float, bool)) and k != "runs"][:6]
    return {k: data[k] for k in keys if k in data}


def main() -> int:
    benchmarks = {}
    for path in sorted(RESULTS.glob("*.json")):
        if path.name == "summary.json" or path.stem.endswith("_before"):
            continue
        data = json.loads(path.read_text())
        benchmarks[path.stem] = {"command": data.get("command"), "when": data.get("when"),
                                 "headline": headline(path.stem, data), "file": f"bench/results/{path.name}"}
    summary = {"written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": _stack.machine_facts(postgresql=postgresql_version()),
               "benchmarks": benchmarks}
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    m = summary["machine"]
    lines = [START, "", f"Written by `bench/summary.py` at {summary['written']} on {m['cores']} cores "
             f"({m['cpu_model']}), {m['ram_gib']} GiB, Python {m['python']}, {m['postgresql']}, "
             f"load average {m['load_average']}.", "", "| benchmark | when | headline figures | command |",
             "| --- | --- | --- | --- |"]
    for name, b in benchmarks.items():
        figures = ", ".join(f"{k} {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k} {v}"
                            for k, v in b["headline"].items())
        lines.append(f"| {name} | {b['when']} | {figures} | `{b['command']}` |")
    lines += ["", END]
    text = RESULTS_MD.read_text()
    if START in text and END in text:
        text = text[:text.index(START)] + "\n".join(lines) + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Latest `make bench`\n\n" + "\n".join(lines) + "\n"
    RESULTS_MD.write_text(text)
    print(f"summary of {len(benchmarks)} benchmarks written to bench/results/summary.json and bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
