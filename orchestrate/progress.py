"""A compact progress view of Meltano jobs: per job, what is loading, records so far, rate, elapsed.

Meltano's own output of one demo is thousands of lines. A person wants to see what is running, how
far it is and what it costs, so the jobs' whole output goes to a log file under output/logs/ and
the terminal gets a line per job every few seconds and one when it ends:

    [attio 5 s] people 600 · notes 400 · deals 300 · 12 more (416 records/s)
    [attio 10 s] people 600 · notes 400 · deals 300 · 12 more (416 records/s), dbt 30/94
    attio: ok (12.0 s) 2,086 records (416 records/s), dbt 94/94

The counts are the loader's record_count metrics (target-postgres reports them for every source,
at the end of each stream's batches) and dbt's "N of M" lines, read from the log as it grows; the
rate is records over the log's own clock from the job's start to its last counted record. `make full` (run_all.py) shows the same
lines; `make demo` runs its jobs through this script:

    python orchestrate/progress.py JOB [JOB ...]   each job in turn, under its lock; stops at the
                                                   first failure, naming its cause and its log;
                                                   the JOB `source-jobs` stands for every job that
                                                   extracts, in Meltano's order (make demo); a JOB
                                                   `<job>--<instance>` is that job for another
                                                   business, its extractor tap-x--<instance>
                                                   (make demo-businesses)
TRIBUTARY_PROGRESS_SECONDS sets how often a running job's line is printed (default 5).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import project

LOG_PREFIX = re.compile(r"^(\S+)Z \[\w+\s*\] (\S+)\s+(.*)$")  # Meltano's: time [level] plugin message
DBT_NODE_DONE = re.compile(r"\b(\d+) of (\d+) (?:OK|PASS|ERROR|FAIL|WARN|SKIP)\b")


class JobProgress:
    """What one job's log says so far."""

    def __init__(self) -> None:
        self.records: dict[str, int] = {}  # stream -> records loaded
        self.dbt_done = self.dbt_total = 0
        self.step = ""  # the plugin that wrote last: tap-x, target-postgres, dbt
        # The log's own clock: its first line, and the last that counted records (the rate is the
        # load's, not diluted by the dbt build after it)
        self.first_seen: datetime | None = None
        self.last_loaded: datetime | None = None

    def feed(self, line: str) -> None:
        match = LOG_PREFIX.match(line)
        if not match:
            # `meltano invoke dbt:build` passes dbt's own lines through, without Meltano's prefix
            if done := DBT_NODE_DONE.search(line):
                self.step = "dbt"
                self._dbt_node(done)
            return
        stamp, plugin, message = match.groups()
        try:
            seen = datetime.fromisoformat(stamp)
        except ValueError:
            return
        self.first_seen = self.first_seen or seen
        self.step = plugin
        if plugin.startswith("target-") and '"record_count"' in message and "METRIC" in message:
            try:
                metric = json.loads(message[message.index("{"):])
            except ValueError:
                return  # not a metric after all: the view is a courtesy, never a failure
            stream = metric.get("tags", {}).get("stream", "?")
            self.records[stream] = self.records.get(stream, 0) + int(metric.get("value", 0))
            self.last_loaded = seen
        elif plugin.startswith("dbt") and (done := DBT_NODE_DONE.search(message)):
            self._dbt_node(done)

    def _dbt_node(self, done: re.Match) -> None:
        self.dbt_done = max(self.dbt_done, int(done.group(1)))
        self.dbt_total = int(done.group(2))

    @property
    def total(self) -> int:
        return sum(self.records.values())

    @property
    def rate(self) -> str:
        """Records per second from the job's start to its last counted record."""
        if not self.records or self.first_seen is None or self.last_loaded is None:
            return ""
        seconds = max((self.last_loaded - self.first_seen).total_seconds(), 0.1)
        return f"{self.total / seconds:,.0f} records/s"

    def describe(self, *, streams: int = 3) -> str:
        parts = []
        if self.records:
            largest = sorted(self.records.items(), key=lambda item: -item[1])[:streams]
            more = len(self.records) - len(largest)
            parts.append(" · ".join(f"{stream} {count:,}" for stream, count in largest)
                         + (f" · {more} more" if more > 0 else "") + f" ({self.rate})")
        if self.dbt_total:
            parts.append(f"dbt {self.dbt_done}/{self.dbt_total}")
        return ", ".join(parts) or (f"{self.step} running" if self.step else "starting")

    def summary(self) -> str:
        loaded = f"{self.total:,} records ({self.rate})" if self.records else "no records"
        return loaded + (f", dbt {self.dbt_done}/{self.dbt_total}" if self.dbt_total else "")


DEFAULT_PRINT_SECONDS = 5.0


def print_interval() -> float:
    """TRIBUTARY_PROGRESS_SECONDS, or the default when unset or not a positive number (said once:
    the view is a courtesy, a typo in it must not stop a run)."""
    value = os.environ.get("TRIBUTARY_PROGRESS_SECONDS", "").strip()
    if not value:
        return DEFAULT_PRINT_SECONDS
    try:
        seconds = float(value)
        if seconds > 0:
            return seconds
    except ValueError:
        pass
    print(f"TRIBUTARY_PROGRESS_SECONDS={value!r} is not a positive number of seconds; printing progress every "
          f"{DEFAULT_PRINT_SECONDS:.0f} s", file=sys.stderr, flush=True)
    return DEFAULT_PRINT_SECONDS


@contextlib.contextmanager
def watch(log: Path, label: str, every: float | None = None):
    """While the block runs, print `label`'s progress from `log` every `every` seconds; yields the
    JobProgress, complete once the block has ended."""
    every = every if every is not None else print_interval()
    progress, stop, started = JobProgress(), threading.Event(), time.monotonic()

    def follow() -> None:
        last_print, pending = time.monotonic(), ""
        with open(log, errors="replace") as text:
            while True:
                ended = stop.is_set()
                pending += text.read()
                *lines, pending = pending.split("\n")  # a line still being written waits for its end
                for line in lines + ([pending] if ended else []):
                    progress.feed(line)
                if ended:
                    return
                if time.monotonic() - last_print >= every:
                    last_print = time.monotonic()
                    elapsed = last_print - started
                    print(f"  [{label} {elapsed:.0f} s] {progress.describe()}", flush=True)
                stop.wait(0.5)

    log.touch()
    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        yield progress
    finally:
        stop.set()
        follower.join()


SOURCE_JOBS = "source-jobs"


def expand(jobs: list[str], tasks: dict[str, list[str]]) -> list[str]:
    """`source-jobs` as every job with an extract-load block (so `make demo` runs a new source's
    job with no edit), in Meltano's order; any other name as it is."""
    sources = [name for name, blocks in tasks.items() if project.extracts(blocks)]
    return [name for job in jobs for name in (sources if job == SOURCE_JOBS and job not in tasks else [job])]


def main(jobs: list[str]) -> int:
    from run import run_locked
    from run_all import last_error_line

    if not jobs:
        print(__doc__.split("\n\n")[-1].strip(), file=sys.stderr)
        return 2
    tasks = project.jobs()
    listed = set(tasks)
    jobs = expand(jobs, tasks)
    tasks.update({job: blocks for job in jobs if job not in tasks and (blocks := project.instance_job(job, tasks))})
    unknown = [job for job in jobs if job not in tasks]
    if unknown:
        print(f"no job named {', '.join(unknown)}; Meltano has: {', '.join(sorted(tasks))}", file=sys.stderr)
        return 2
    log_dir = project.LOG_DIR / "demo" / project.timestamp()
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"{project.environment()}: jobs {', '.join(jobs)}; Meltano's whole output in {log_dir}", flush=True)
    for job in jobs:
        log = log_dir / f"{job}.log"
        started = time.monotonic()
        with open(log, "w") as out, watch(log, job) as progress:
            # a job Meltano lists runs by its name; another business's, by its blocks
            run = ["run", job] if job in listed else ["run", *" ".join(tasks[job]).split()]
            code = run_locked(job, run, wait=True, out=out, tasks=tasks[job])
        seconds = time.monotonic() - started
        print(f"{job}: {'ok' if code == 0 else 'FAILED'} ({seconds:.1f} s) {progress.summary()}", flush=True)
        if code != 0:
            print(f"{job} failed: {last_error_line(log)}\nits whole output: {log}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    project.private_files()
    sys.exit(main(sys.argv[1:]))
