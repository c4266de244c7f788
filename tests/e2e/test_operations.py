"""Operations end to end: every source at once with one broken, schedules fired the way cron
fires them, two runs of one job at once, the data-quality report, and Meltano's state kept in
PostgreSQL. The orchestrate/ commands run as a user runs them, against the test stack."""

from __future__ import annotations

import fcntl
import json
import re
import shlex
import sqlite3
import subprocess
import sys
import time

import psycopg
import pytest

from conftest import BIN, PROJECT_ROOT, RUN_DIR, WAREHOUSE, WAREHOUSE_PORT

OUTPUT = RUN_DIR / "output"
ATTIO_STATE = "dev:tap-attio-to-target-postgres"
QUICKBOOKS_STATE = "dev:tap-quickbooks-to-target-postgres"


def ops_env(stack, **extra) -> dict[str, str]:
    return {**stack.env, "TRIBUTARY_OUTPUT_DIR": str(OUTPUT), **extra}


def command(stack, script: str, *args: str, timeout: int = 600, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), f"orchestrate/{script}", *args], cwd=PROJECT_ROOT,
                          env=ops_env(stack, **extra), capture_output=True, text=True, timeout=timeout)


def start(stack, script: str, *args: str, log) -> subprocess.Popen:
    """Started in the background; its output goes to a file (a full pipe would stall it)."""
    return subprocess.Popen([str(BIN / "python"), f"orchestrate/{script}", *args], cwd=PROJECT_ROOT,
                            env=ops_env(stack), stdout=open(log, "w"), stderr=subprocess.STDOUT, text=True)


def table_exists(stack, name: str) -> bool:
    return stack.scalar("select to_regclass(%s) is not null", (name,))


def summary_row(output: str, part: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [part] and ("ok" in line or "FAILED" in line)
                and "(" not in line.split()[1])


# -- failure isolation -------------------------------------------------------------------------
def test_full_run_carries_on_past_a_broken_source_and_names_it(stack):
    stack.reset()
    result = command(stack, "run_all.py", TAP_ATTIO_API_KEY="wrong-key")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # the other source loaded and its marts were built
    assert stack.scalar("select count(*) from marts.quickbooks__invoices") > 0
    assert stack.state(QUICKBOOKS_STATE)
    # the summary: a row per source job Meltano knows and the transform step; attio failed, with its cause
    listed = subprocess.run([str(BIN / "meltano"), "job", "list", "--format=json"], cwd=PROJECT_ROOT,
                            env=stack.env, capture_output=True, text=True, check=True)
    for job in json.loads(listed.stdout)["jobs"]:
        if any(word.startswith("tap-") for task in job["tasks"] for word in task.split()):
            summary_row(output, job["job_name"])  # ga4 and shopify too, with no code naming them
    assert summary_row(output, "attio").split()[1] == "FAILED"
    assert "TAP_ATTIO_API_KEY" in summary_row(output, "attio")
    summary_row(output, "transform")
    assert re.search(r"part\(s\) failed: .*attio", output)
    assert not table_exists(stack, "marts.attio__deal_pipeline")  # left out, not built on nothing
    assert "wrong-key" not in output


def test_full_run_when_every_source_works(stack):
    result = command(stack, "run_all.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every part succeeded" in result.stdout
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") > 0
    assert stack.scalar("select count(*) from marts.quickbooks__invoices") > 0


# -- data quality ------------------------------------------------------------------------------
def latest_report() -> str:
    return (OUTPUT / "data-quality" / "latest.md").read_text()


def test_data_quality_on_a_clean_warehouse_says_all_is_well(stack):
    # run as the `data-quality` Meltano job, through the project's runner (as cron and Docker do)
    result = command(stack, "run.py", "data-quality")
    assert result.returncode == 0, result.stdout + result.stderr
    report = latest_report()
    assert "**All is well:**" in report
    assert "| attio | pass |" in report and "| quickbooks | pass |" in report
    assert "| assert_attio__deal_pipeline_matches_staging | pass | 0 |" in report


def test_data_quality_names_a_broken_row_and_shows_it(stack):
    deal_id = stack.scalar("select record_id from raw_attio.deals where value is not null "
                           "and _sdc_deleted_at is null order by record_id limit 1")
    stack.sql("update raw_attio.deals set value = value + 1000 where record_id = %s returning 1", (deal_id,))
    result = command(stack, "data_quality.py")
    report = latest_report()
    assert result.returncode == 1, report
    assert "**Needs attention:**" in report and "assert_attio__deal_pipeline_matches_staging" in report
    reconciliation = report.split("## Reconciliation")[1]
    assert "| assert_attio__deal_pipeline_matches_staging | fail | 1 |" in reconciliation
    assert "mart_value" in reconciliation  # the differing row itself, with its columns
    # the next load re-reads Attio whole and puts the row right
    assert command(stack, "run.py", "attio").returncode == 0


def test_data_quality_calls_an_empty_table_empty_and_an_old_one_stale(stack):
    """An Attio list with no entries loads as a table with no rows: the source has nothing, the
    table is not late. A table whose newest load is days old is stale, as before."""
    # As a load of a list emptied in Attio leaves it (the loader keeps the table, with no rows).
    stack.sql("delete from raw_attio.list_entries_key_accounts returning 1")
    stack.sql("update raw_quickbooks.accounts set _sdc_batched_at = _sdc_batched_at - interval '4 days' returning 1")
    try:
        result = command(stack, "data_quality.py")
        report = latest_report()
        assert result.returncode == 1, report  # the stale table needs attention
        assert "stale sources: quickbooks." in report.split("\n\n")[1], report
        assert "| attio | pass |" in report, report
        assert "Empty tables (loaded, but the source has no rows for them; not stale): attio.list_entries_key_accounts." in report
        behind = report.split("Tables behind:")[1].split("Empty tables")[0]
        assert "| quickbooks | accounts | error |" in behind and "list_entries_key_accounts" not in behind, behind
    finally:
        stack.sql("update raw_quickbooks.accounts set _sdc_batched_at = _sdc_batched_at + interval '4 days' returning 1")
    # With only the empty table left, all is well.
    assert command(stack, "data_quality.py").returncode == 0, latest_report()
    assert "**All is well:**" in latest_report() and "attio.list_entries_key_accounts" in latest_report()
    assert command(stack, "run.py", "attio").returncode == 0  # the list's entries back for the next tests


# -- schedules that fire -----------------------------------------------------------------------
def cron_line(stack, schedule: str) -> str:
    # dev fires no schedule by itself (meltano.yml); switched on here for this machine only
    printed = command(stack, "cron.py", "print", TRIBUTARY_SCHEDULES=schedule)
    assert printed.returncode == 0, printed.stderr
    [line] = [line for line in printed.stdout.splitlines() if f"--schedule {schedule} " in line]
    return line


def run_cron_line(stack, line: str) -> subprocess.CompletedProcess:
    """What cron does with a line: the part after the five time fields, through /bin/sh."""
    shell_command = line.split(None, 5)[5]
    return subprocess.run(["/bin/sh", "-c", shell_command], env=stack.env, capture_output=True, text=True, timeout=600)


def test_a_generated_cron_line_fires_its_schedule_and_keeps_a_log(stack):
    line = cron_line(stack, "attio-hourly")
    assert line.startswith("0 * * * * ")
    before = set((OUTPUT / "logs" / "attio-hourly").glob("*.log"))
    stack.sql("delete from marts.attio__deal_pipeline returning 1")  # the fired job rebuilds it
    result = run_cron_line(stack, line)
    assert result.returncode == 0, result.stdout + result.stderr
    [log] = set((OUTPUT / "logs" / "attio-hourly").glob("*.log")) - before
    text = log.read_text()
    assert "meltano schedule run attio-hourly" in text and "[run.py] exit 0" in text
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") > 0


def test_a_cron_start_while_the_job_runs_exits_at_once_and_says_so(stack):
    line = cron_line(stack, "attio-hourly")
    lock = OUTPUT / "locks" / "attio.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    # a run in progress: the lock held, as `flock output/locks/attio.lock …` would hold it
    holder = open(lock, "a")
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        before = set((OUTPUT / "logs" / "attio-hourly").glob("*.log"))
        started = time.monotonic()
        result = run_cron_line(stack, line)
        assert time.monotonic() - started < 10
        [log] = set((OUTPUT / "logs" / "attio-hourly").glob("*.log")) - before
        assert "job 'attio' is already running" in log.read_text()
        assert "not starting a second run" in log.read_text()
        assert result.returncode == 75  # EX_TEMPFAIL: not a failure, just not now
    finally:
        holder.close()


# -- two runs of one job at once ---------------------------------------------------------------
def running_rows(state_id: str) -> int:
    with sqlite3.connect(RUN_DIR / "meltano.db") as db:
        return db.execute("select count(*) from runs where job_name = ? and state = 'RUNNING'", (state_id,)).fetchone()[0]


def test_meltano_alone_refuses_a_second_extract_load_only_once_the_first_has_registered(stack):
    """What Meltano 4.4.1 does by itself: `meltano run` refuses an extract-load whose state id has
    a RUNNING row in the system database. But its state lock for the system database is a no-op,
    the check and the insert of that row are not atomic, the row is closed when the extract-load
    ends (a job's dbt step after it is not covered: a second `meltano run attio` then starts), and
    a killed run blocks the state id until its heartbeat is 5 minutes stale. Hence the runner's
    own per-job lock."""
    first = subprocess.Popen([str(BIN / "meltano"), "run", "tap-attio", "target-postgres"], cwd=PROJECT_ROOT,
                             env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while running_rows(ATTIO_STATE) == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, "the first run ended before the check"
        second = stack.meltano("run", "tap-attio", "target-postgres")
        assert not second.ok
        assert f"Another '{ATTIO_STATE}' pipeline is already running" in second.output
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0


def test_two_runs_of_one_job_at_once_one_refuses_clearly_and_state_stays_valid(stack, tmp_path):
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    runs = [start(stack, "run.py", "attio", log=log) for log in logs]
    for run in runs:
        run.wait(timeout=300)
    outputs = [log.read_text() for log in logs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 75], outputs
    refused = outputs[[run.returncode for run in runs].index(75)]
    assert "job 'attio' is already running" in refused and "not starting a second run" in refused
    state = stack.state(ATTIO_STATE)
    assert state.get("singer_state", {}).get("bookmarks") is not None, state
    assert running_rows(ATTIO_STATE) == 0


def test_a_waiting_second_run_queues_behind_the_first(stack, tmp_path):
    first = start(stack, "run.py", "attio", log=tmp_path / "first.log")
    time.sleep(1)
    second = command(stack, "run.py", "--wait", "attio", timeout=300)
    assert first.wait(timeout=60) == 0, (tmp_path / "first.log").read_text()
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr and "waiting for it to finish" in second.stderr


# -- Meltano's system database (state included) in the warehouse --------------------------------
def test_state_kept_in_a_postgres_system_database_is_read_back_on_the_next_run(stack):
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
        conn.execute("drop database if exists meltano_system")
        conn.execute("create database meltano_system")
    uri = f"postgresql+psycopg://tributary:tributary-dev@127.0.0.1:{WAREHOUSE_PORT}/meltano_system"
    env = {"MELTANO_DATABASE_URI": uri}
    stack.reset()  # no state anywhere: the first run is a full one

    first = stack.meltano("run", "tap-quickbooks", "target-postgres", env=env)
    assert first.ok, first.output[-4000:]
    with psycopg.connect(**{**WAREHOUSE, "dbname": "meltano_system"}) as conn:
        [(stored,)] = conn.execute("select completed_state from state where state_id = %s", (QUICKBOOKS_STATE,)).fetchall()
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    bookmarks = stored["singer_state"]["bookmarks"]
    assert bookmarks
    assert not (RUN_DIR / "meltano.db").exists() or QUICKBOOKS_STATE not in stack.meltano("state", "list").output

    read_back = stack.meltano("state", "get", QUICKBOOKS_STATE, env=env)
    assert read_back.ok and '"bookmarks"' in read_back.output

    # The next run is incremental: the tap is handed the stored bookmarks and re-sends only the
    # boundary records (its queries use >=), so almost no row is re-stamped by the loader.
    loaded = stack.scalar("select count(*) from raw_quickbooks.invoices")
    second_started = stack.scalar("select now()")
    second = stack.meltano("run", "tap-quickbooks", "target-postgres", env=env)
    assert second.ok, second.output[-4000:]
    restamped = stack.scalar("select count(*) from raw_quickbooks.invoices where _sdc_batched_at >= %s",
                             (second_started,))
    assert stack.scalar("select count(*) from raw_quickbooks.invoices") == loaded
    assert restamped < loaded / 10, (restamped, loaded)
