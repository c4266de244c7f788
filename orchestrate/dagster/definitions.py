"""Meltano's jobs and schedules as Dagster jobs and schedules, read from Meltano when Dagster loads.

    meltano invoke dagster:dev                 # Dagster's UI and its schedule daemon, http://127.0.0.1:3000
    meltano invoke dagster:list                # what Dagster loads: each job, each schedule, on or off
    meltano invoke dagster:execute -j JOB      # one job, now, through Dagster (Dagster names: my-job -> my_job)

No job is named here. Every Meltano job (`meltano job list`) becomes a Dagster job of one op that
runs it the way orchestrate/run.py does: `meltano run JOB` under the job's lock (waiting for a
run already going), with its own dbt artifacts; a run started by a schedule runs `meltano
schedule run NAME` instead, so the schedule's own env applies. Every Meltano schedule becomes a
Dagster schedule on the same cron, RUNNING by default where the environment switches it on and
STOPPED elsewhere (meltano.yml, `annotations: tributary: schedules:`, as for the crontab).
Dagster keeps a schedule's state once someone turns it on or off in the UI; the default applies
until then. Output of each run: Dagster's stdout view and output/logs/dagster/<job>/.

Why not dagster-meltano (1.5.5)? It installs and runs this project's jobs, but it runs each task
of a job as its own `meltano run TASK --force` (no job lock, Meltano's own concurrent-run guard
forced off, one dbt target folder shared by every job), starts every schedule whatever the
environment, and holds Dagster at 1.9 through dagster-shell, which stopped at 0.25.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from dagster import (DefaultScheduleStatus, Definitions, Failure, JobDefinition, ScheduleDefinition,
                     in_process_executor, job, op)

# orchestrate/ holds what cron and the Makefile use too: the same lists, locks and switch here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import project  # noqa: E402

project.private_files()  # this module runs only in Dagster's own processes, every run a child of theirs
from run_all import last_error_line  # noqa: E402

JOB_TAG = "tributary/meltano-job"  # every run carries its Meltano job (dagster.yaml: one run per job at a time)
SCHEDULE_TAG = "tributary/meltano-schedule"  # runs a schedule started


def dagster_name(meltano_name: str) -> str:
    """Dagster names allow letters, digits and underscores only: my-job -> my_job."""
    return "".join(c if c.isalnum() else "_" for c in meltano_name)


@op(description="Runs the run's Meltano job (its tag tributary/meltano-job), holding the job's lock.")
def meltano_job(context) -> None:
    job_name = context.run.tags[JOB_TAG]
    schedule = context.run.tags.get(SCHEDULE_TAG)
    # Tags can be set by anyone who can launch a run: only the project's own jobs and schedules
    # run, and their names choose the lock and log paths
    if job_name not in project.jobs():
        raise Failure(description=f"run tag {JOB_TAG}={job_name!r} is not a job of this project "
                                  f"(meltano job list: {', '.join(project.jobs())}); nothing was run")
    if schedule is not None and schedule not in {s["name"] for s in project.schedules()}:
        raise Failure(description=f"run tag {SCHEDULE_TAG}={schedule!r} is not a schedule of this project "
                                  "(meltano schedule list); nothing was run")
    meltano_args = ["schedule", "run", schedule] if schedule else ["run", job_name]
    log_dir = project.inside(project.LOG_DIR / "dagster", job_name)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{project.timestamp()}-{context.run_id[:8]}.log"
    started = time.monotonic()
    with project.job_lock(job_name, wait=True, say=context.log.info), open(log_path, "w") as log:
        project.close_killed_runs(job_name, say=context.log.info)  # a kill -9'd run would block it 5 minutes
        context.log.info(f"{project.environment()}: meltano {' '.join(meltano_args)} (log: {log_path})")
        process = subprocess.Popen([project.meltano_executable(), *meltano_args], cwd=project.PROJECT_ROOT,
                                   env=project.job_run_env(job_name), stdin=subprocess.DEVNULL,
                                   preexec_fn=project.dies_with_its_parent(),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in process.stdout:  # to the file and to Dagster's stdout view, as it comes
                log.write(line)
                sys.stdout.write(line)
            code = process.wait()
        finally:  # a run terminated from Dagster stops Meltano too (which stops its plugins)
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
    seconds = time.monotonic() - started
    if code != 0:
        raise Failure(description=f"meltano {' '.join(meltano_args)} failed (exit {code}): {last_error_line(log_path)}",
                      metadata={"log": str(log_path), "exit code": code, "seconds": round(seconds, 1)})
    context.log.info(f"meltano {' '.join(meltano_args)}: ok in {seconds:.1f} s")


def dagster_job(meltano_job_name: str, tasks: list[str]) -> JobDefinition:
    # In process: the run's one op runs in the run's worker process, so the process holding the
    # job's lock is the one Dagster watches; a step process of its own would outlive a killed worker.
    @job(name=dagster_name(meltano_job_name), tags={JOB_TAG: meltano_job_name}, executor_def=in_process_executor,
         description=f"Meltano job `{meltano_job_name}`: {' → '.join(tasks)}")
    def the_job():
        meltano_job()

    return the_job


def dagster_schedule(schedule: dict, fires: bool) -> ScheduleDefinition:
    return ScheduleDefinition(
        name=dagster_name(schedule["name"]),
        job_name=dagster_name(schedule["job"]["name"]),
        cron_schedule=schedule["cron_interval"],  # Meltano's @daily/@hourly, as five fields
        execution_timezone="UTC",  # as Meltano's and the crontab's intervals are meant
        tags={SCHEDULE_TAG: schedule["name"]},
        default_status=DefaultScheduleStatus.RUNNING if fires else DefaultScheduleStatus.STOPPED,
        description=f"Meltano schedule `{schedule['name']}`: job {schedule['job']['name']}, {schedule['interval']}",
    )


def build(jobs: dict[str, list[str]], schedules: list[dict], firing: set[str]) -> Definitions:
    return Definitions(
        jobs=[dagster_job(name, tasks) for name, tasks in jobs.items()],
        schedules=[dagster_schedule(schedule, schedule["name"] in firing) for schedule in schedules],
    )


def load() -> tuple[Definitions, str]:
    """Definitions for the environment in force (MELTANO_ENVIRONMENT), and where its switch was read."""
    schedules = project.schedules()
    firing, where = project.schedules_that_fire([schedule["name"] for schedule in schedules])
    return build(project.jobs(), schedules, firing), where


defs, SWITCH_SOURCE = load()


def describe(definitions: Definitions) -> dict:
    """What Dagster loaded, as plain data: `meltano invoke dagster:list [--json]`."""
    jobs = {job.name: {"meltano_job": job.tags[JOB_TAG], "ops": [node.name for node in job.nodes]}
            for job in definitions.jobs}
    schedules = {schedule.name: {"cron": schedule.cron_schedule, "job": schedule.job_name,
                                 "meltano_schedule": schedule.tags[SCHEDULE_TAG],
                                 "meltano_job": jobs[schedule.job_name]["meltano_job"],
                                 "default_status": schedule.default_status.value}
                 for schedule in definitions.schedules}
    return {"environment": project.environment(), "switch": SWITCH_SOURCE, "jobs": jobs, "schedules": schedules}


if __name__ == "__main__":
    import json

    loaded = describe(defs)
    if "--json" in sys.argv[1:]:
        print(json.dumps(loaded, indent=2))
        sys.exit(0)
    print(f"Dagster jobs ({len(loaded['jobs'])}), each running its Meltano job:")
    for name, item in loaded["jobs"].items():
        print(f"  {name:<20} meltano run {item['meltano_job']}")
    print(f"Dagster schedules ({len(loaded['schedules'])}) in the {loaded['environment']} environment "
          f"(switch: {loaded['switch']}):")
    for name, item in loaded["schedules"].items():
        print(f"  {name:<20} {item['cron']:<12} job {item['job']:<14} {item['default_status']}")
