"""Run every source, then the models that span sources; one failing source stops nothing else.

    python orchestrate/run_all.py

Each source job Meltano knows (`meltano job list`: every job with an extractor) runs as its own
`meltano run <job>`, under that job's lock (waiting if a scheduled run holds it); each source job builds and tests
that source's models. Then the `cross-source` job builds and tests the models that span sources
(the rest were just built: rebuilding every model again would double the run's dbt time); when a
source failed, what it feeds is left as it was at its last good run (`--exclude source:<job>+`)
instead of being rebuilt on a half-loaded raw schema. A table of the parts follows; the exit code is
non-zero if any part failed. Each part's output is kept in output/logs/full/<timestamp>/; the
terminal shows each part's progress meanwhile (progress.py: records per stream, rate, dbt nodes).

A plain Meltano job can't do this: `meltano run quickbooks attio cross-source` stops at the first
failing task, so a broken Attio key would also stop every source after it.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import progress
import project
from run import run_locked

CROSS_SOURCE_JOB = "cross-source"
# Meltano's and dbt's own bookkeeping lines, never the cause of a failure.
NOISE = re.compile(r"Block run completed|Run completed|Run invocation could not be completed|"
                   r"Cannot start plugin|Extractor failed|Loader failed|Transformer failed|"
                   r"Done\. PASS=|Completed with \d+ error|See test failures|^-+$|^\s*$|^\[run\.py\]|"
                   r"ResourceWarning|tracemalloc", re.I)  # Python's warnings at a failed tap's exit
ERRORISH = re.compile(r"error|exception|failed|fatal|refused|denied|invalid|unauthori[sz]ed|traceback", re.I)
# dbt names the failing node on one line and gives the database's message on the next.
DBT_FAILURE = re.compile(r"^(Database Error|Compilation Error|Runtime Error|Failure) in (\w+ \w+)")
LOG_PREFIX = re.compile(r"^\S+Z \[\w+\s*\] (?:\S+\s+)?")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DBT_TIME = re.compile(r"^\d\d:\d\d:\d\d\s+")


@dataclass
class Part:
    name: str
    ok: bool
    seconds: float
    exit_code: int
    log: Path
    error: str = ""


def last_error_line(log: Path) -> str:
    lines = [DBT_TIME.sub("", ANSI.sub("", LOG_PREFIX.sub("", line)).strip()).strip()
             for line in log.read_text(errors="replace").splitlines()]
    meaningful = [line for line in lines if line and not NOISE.search(line)]
    for index in range(len(meaningful) - 1, -1, -1):
        failure = DBT_FAILURE.match(meaningful[index])
        if failure:
            detail = meaningful[index + 1] if index + 1 < len(meaningful) else ""
            return f"{failure.group(1)} in {failure.group(2)}: {detail}"[:160]
    for line in reversed(meaningful):
        if ERRORISH.search(line):
            return line[:160]
    return meaningful[-1][:160] if meaningful else ""


def run_part(name: str, job: str, meltano_args: list[str], log_dir: Path, tasks: list[str] | None = None) -> Part:
    log = log_dir / f"{name}.log"
    started = time.monotonic()
    with open(log, "w") as out, progress.watch(log, name) as seen:
        code = run_locked(job, meltano_args, wait=True, out=out, tasks=tasks)
    part = Part(name, code == 0, time.monotonic() - started, code, log)
    if not part.ok:
        part.error = last_error_line(log)
    print(f"{name}: {'ok' if part.ok else 'FAILED'} ({part.seconds:.1f} s) {seen.summary()}", flush=True)
    return part


def cross_source_args(failed_sources: list[str]) -> list[str]:
    if not failed_sources:
        return ["run", CROSS_SOURCE_JOB]
    excluded = [f"source:{source}+" for source in failed_sources]
    return ["invoke", "dbt:build_cross_source", "--exclude", *excluded]


def summary(parts: list[Part]) -> str:
    rows = [("part", "result", "seconds", "last error")]
    rows += [(p.name, "ok" if p.ok else "FAILED", f"{p.seconds:.1f}", p.error) for p in parts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3]
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths) + "  " + "-" * 10)
    return "\n".join(line.rstrip() for line in lines)


def main() -> int:
    log_dir = project.LOG_DIR / "full" / project.timestamp()
    log_dir.mkdir(parents=True, exist_ok=True)
    tasks = project.jobs()
    sources = [job for job, job_tasks in tasks.items() if project.extracts(job_tasks)]
    print(f"{project.environment()}: sources {', '.join(sources)}, then {CROSS_SOURCE_JOB}; logs in {log_dir}",
          flush=True)
    parts = [run_part(job, job, ["run", job], log_dir, tasks[job]) for job in sources]
    failed = [part.name for part in parts if not part.ok]
    parts.append(run_part(CROSS_SOURCE_JOB, CROSS_SOURCE_JOB, cross_source_args(failed), log_dir))
    print()
    print(summary(parts))
    broken = [part.name for part in parts if not part.ok]
    if broken:
        print(f"\n{len(broken)} part(s) failed: {', '.join(broken)}. Full output: {log_dir}")
        return 1
    print("\nevery part succeeded")
    return 0


if __name__ == "__main__":
    project.private_files()
    sys.exit(main())
