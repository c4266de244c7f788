"""Run one Meltano job, or fire one schedule, holding that job's lock.

    python orchestrate/run.py quickbooks            # meltano run quickbooks
    python orchestrate/run.py --wait quickbooks     # queue behind a run already going
    python orchestrate/run.py --schedule attio-hourly   # what cron runs (orchestrate/cron.py)

A second start of a job that is running refuses at once (exit 75) and says so, unless --wait.
A run of the job killed with SIGKILL is marked failed in Meltano's system database first (one
line says so), so the new run starts at once instead of being refused for 5 minutes.
--schedule writes the run's whole output to output/logs/<schedule>/<UTC timestamp>.log.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import project

BUSY = 75  # EX_TEMPFAIL: nothing wrong, try again later


def run_locked(job: str, meltano_args: list[str], *, wait: bool, out=None, tasks: list[str] | None = None) -> int:
    def say(message: str) -> None:
        print(f"[run.py] {message}", file=out or sys.stderr, flush=True)

    try:
        with project.job_lock(job, wait=wait, say=say):
            project.close_killed_runs(job, tasks, say=say)
            say(f"{project.environment()}: meltano {' '.join(meltano_args)}")
            completed = subprocess.run([project.meltano_executable(), *meltano_args], cwd=project.PROJECT_ROOT,
                                       env=project.job_run_env(job), stdin=subprocess.DEVNULL,
                                       preexec_fn=project.dies_with_its_parent(),
                                       stdout=out, stderr=subprocess.STDOUT if out else None)
            say(f"exit {completed.returncode}")
            return completed.returncode
    except project.JobBusy as busy:
        say(str(busy))
        return BUSY


def fire_schedule(name: str, *, wait: bool) -> int:
    by_name = {schedule["name"]: schedule for schedule in project.schedules()}
    if name not in by_name:
        print(f"no schedule named '{name}'; Meltano has: {', '.join(sorted(by_name))}", file=sys.stderr)
        return 2
    log_dir = project.LOG_DIR / name
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{project.timestamp()}.log"
    with open(log_path, "a") as log:
        job = by_name[name]["job"]
        return run_locked(job["name"], ["schedule", "run", name], wait=wait, out=log, tasks=job.get("tasks"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", nargs="?", help="a Meltano job (meltano job list)")
    parser.add_argument("--schedule", help="fire this Meltano schedule instead, logging to output/logs/")
    parser.add_argument("--wait", action="store_true", help="wait for a running copy instead of refusing")
    args = parser.parse_args(argv)
    if bool(args.job) == bool(args.schedule):
        parser.error("give a job or --schedule NAME")
    if args.schedule:
        return fire_schedule(args.schedule, wait=args.wait)
    known = project.jobs()
    if args.job not in known:
        print(f"no job named '{args.job}'; Meltano has: {', '.join(known)}", file=sys.stderr)
        return 2
    return run_locked(args.job, ["run", args.job], wait=args.wait, tasks=known[args.job])


if __name__ == "__main__":
    project.private_files()
    sys.exit(main())
