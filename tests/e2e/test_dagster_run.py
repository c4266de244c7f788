"""A Meltano job run through Dagster (`meltano invoke dagster:execute`), against the test stack:
rows land, the run is Dagster's (its instance records it), a failure names its cause."""

from __future__ import annotations

import json
import shutil
import sqlite3

from this_worker import PROJECT_ROOT, RUN_DIR

OUTPUT = RUN_DIR / "output"
DAGSTER_HOME = RUN_DIR / "dagster"


def dagster_env(**extra: str) -> dict[str, str]:
    """The test stack's settings, Dagster's instance under .test-run (with the project's dagster.yaml)."""
    DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "orchestrate" / "dagster" / "dagster.yaml", DAGSTER_HOME / "dagster.yaml")
    return {"DAGSTER_HOME": str(DAGSTER_HOME), "TRIBUTARY_OUTPUT_DIR": str(OUTPUT), **extra}


def dagster_runs() -> list[tuple[str, str, dict]]:
    """(job, status, tags) of every run Dagster's instance recorded."""
    with sqlite3.connect(DAGSTER_HOME / "history" / "runs.db") as db:
        rows = db.execute("select pipeline_name, status, run_body from runs order by create_timestamp").fetchall()
    return [(job, status, json.loads(body).get("tags", {})) for job, status, body in rows]


def test_a_meltano_job_runs_through_dagster_and_loads_its_rows(stack):
    stack.reset()
    before = set((OUTPUT / "logs" / "dagster" / "attio").glob("*.log"))
    result = stack.meltano("invoke", "dagster:execute", "-j", "attio", env=dagster_env())
    assert result.ok, result.output[-4000:]
    # the Meltano job ran whole: extract-load into raw_attio, then the source's dbt build
    assert stack.scalar("select count(*) from raw_attio.people") > 0
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") > 0
    assert stack.state("dev:tap-attio-to-target-postgres")
    assert "dev: meltano run attio" in result.output  # the op said what it ran
    # Dagster's own record of the run, tagged with its Meltano job (one run per job at a time)
    job, status, tags = dagster_runs()[-1]
    assert (job, status, tags["tributary/meltano-job"]) == ("attio", "SUCCESS", "attio")
    # the run's whole output kept beside the crontab's logs, ending as a complete Meltano run
    [log] = set((OUTPUT / "logs" / "dagster" / "attio").glob("*.log")) - before
    assert "Done. PASS=" in log.read_text() and "Run completed" in log.read_text()


def test_a_run_a_schedule_starts_runs_its_schedule_and_a_failure_names_the_cause(stack):
    """A schedule's tick tags its run with the schedule (tests/test_dagster.py); such a run is
    `meltano schedule run NAME`. Here it fails on a refused key: the run fails with the tap's line."""
    result = stack.meltano("invoke", "dagster:execute", "-j", "attio",
                           "--tags", '{"tributary/meltano-schedule": "attio-hourly"}',
                           env=dagster_env(TAP_ATTIO_API_KEY="wrong-key"))
    assert not result.ok
    assert "meltano schedule run attio-hourly failed (exit 1)" in result.output
    assert "TAP_ATTIO_API_KEY" in result.output  # the tap's one line: cause and fix
    assert "wrong-key" not in result.output
    job, status, tags = dagster_runs()[-1]
    assert (job, status, tags["tributary/meltano-schedule"]) == ("attio", "FAILURE", "attio-hourly")
