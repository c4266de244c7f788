"""Operations end to end, part 2: schedules fired the way cron fires them, two runs of one job at
once, and Meltano's state kept in PostgreSQL (part 1, test_operations.py: every source at once and
the data-quality report). The orchestrate/ commands run as a user runs them, against the test stack."""

from __future__ import annotations

import fcntl
import json
import re
import sqlite3
import subprocess
import sys
import time

import psycopg
import pytest

from this_worker import BIN, PROJECT_ROOT, RUN_DIR, WAREHOUSE, WAREHOUSE_PORT

sys.path.insert(0, str(PROJECT_ROOT / "load"))
import roles  # noqa: E402  (load/roles.py)
from ops import OUTPUT, command, ops_env, start

ATTIO_STATE = "dev:tap-attio-to-target-postgres"
QUICKBOOKS_STATE = "dev:tap-quickbooks-to-target-postgres"


@pytest.fixture(scope="module", autouse=True)
def attio_loaded(stack):
    """Attio loaded and modelled by its job as `make demo` runs it (progress.py), as a scheduled
    run finds it."""
    stack.reset()
    loaded = command(stack, "progress.py", "attio", TRIBUTARY_PROGRESS_SECONDS="1")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    return loaded


def test_the_demos_jobs_show_their_progress_and_keep_their_whole_log(stack, attio_loaded):
    shown = attio_loaded.stdout
    assert re.search(r"^  \[attio \d+ s\] .* [\d,]+ .*records/s", shown, re.M), shown
    records = int(re.search(r"^attio: ok \([\d.]+ s\) ([\d,]+) records", shown, re.M)[1].replace(",", ""))
    live = stack.scalar("select count(*) from raw_attio.people") + stack.scalar("select count(*) from raw_attio.deals")
    assert records >= live  # every stream's records, people and deals among them
    [log] = sorted((OUTPUT / "logs" / "demo").glob("*/attio.log"))[-1:]
    whole = log.read_text()
    assert "METRIC" in whole and "dbt" in whole and "METRIC" not in shown


def test_a_failing_demo_job_names_its_cause_and_its_log(stack):
    failed = command(stack, "progress.py", "attio", "cross-source", TAP_ATTIO_API_KEY="wrong-key")
    assert failed.returncode != 0
    assert "attio: FAILED" in failed.stdout and "cross-source" not in failed.stdout.split("attio: FAILED")[1]
    assert "TAP_ATTIO_API_KEY" in failed.stderr and "attio.log" in failed.stderr, failed.stderr
    assert "wrong-key" not in failed.stdout + failed.stderr
    assert command(stack, "progress.py", "no-such-job").returncode == 2


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
    """The production setup: Meltano's own database, created by `load/warehouse.py roles` and
    owned by its own role (load/roles.py), which may not even connect to the warehouse."""
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
        conn.execute("drop database if exists meltano_system")
        roles.orchestration_database(conn)
    role = {"user": roles.MELTANO, "password": roles.DEV_PASSWORDS[roles.MELTANO]}
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(**{**WAREHOUSE, **role}).close()
    uri = f"postgresql+psycopg://{role['user']}:{role['password']}@127.0.0.1:{WAREHOUSE_PORT}/meltano_system"
    env = {"MELTANO_DATABASE_URI": uri}
    stack.reset()  # no state anywhere: the first run is a full one

    first = stack.meltano("run", "tap-quickbooks", "target-postgres", env=env)
    assert first.ok, first.output[-4000:]
    for role_name in ("tributary_loader", "tributary_transformer", "tributary_analyst"):   # the state is Meltano's alone
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(**{**WAREHOUSE, "dbname": "meltano_system", "user": role_name,
                               "password": roles.DEV_PASSWORDS[role_name]}).close()
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
    restamped = stack.scalar("select count(*) from raw_quickbooks.invoices where _sdc_received_at >= %s",
                             (second_started,))
    assert stack.scalar("select count(*) from raw_quickbooks.invoices") == loaded
    assert restamped < loaded / 10, (restamped, loaded)


# -- the job lock across machines ---------------------------------------------------------------
def test_with_the_system_database_in_postgresql_the_job_lock_holds_across_machines(stack, tmp_path):
    """Machines that share Meltano's system database in PostgreSQL share their state, so a job's
    lock is an advisory lock there: another machine's run of attio (its connection holding the
    lock, as its run.py would) refuses a start here, naming that machine; a --wait start goes on
    once that run ends; other jobs are not held up."""
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
        roles.orchestration_database(conn)
    role = {"user": roles.MELTANO, "password": roles.DEV_PASSWORDS[roles.MELTANO]}
    uri = f"postgresql+psycopg://{role['user']}:{role['password']}@127.0.0.1:{WAREHOUSE_PORT}/meltano_system"
    lock = "select pg_advisory_lock(hashtext('tributary job'), hashtext('dev:attio'))"  # the dev environment's attio
    holds = ("import sys; sys.path.insert(0, 'orchestrate'); import project\n"
             "with project.job_lock(sys.argv[1], wait=sys.argv[2] == 'wait', say=print): print('running', flush=True)")
    other_machine = psycopg.connect(**{**WAREHOUSE, **role, "dbname": "meltano_system"}, autocommit=True,
                                    application_name="attio: pid 4242 on worker-b")
    try:
        other_machine.execute(lock)
        refused = command(stack, "run.py", "attio", MELTANO_DATABASE_URI=uri)
        assert refused.returncode == 75, refused.stderr
        assert re.search(r"job 'attio' is already running \(attio: pid 4242 on worker-b, since \d{4}-\d\d-\d\d "
                         r"[\d:]+ UTC\); not starting a second run \(lock: PostgreSQL advisory lock in Meltano's "
                         r"system database meltano_system\)", refused.stderr), refused.stderr
        env = {**ops_env(stack), "MELTANO_DATABASE_URI": uri}
        other_job = subprocess.run([str(BIN / "python"), "-c", holds, "quickbooks", "now"], cwd=PROJECT_ROOT,
                                   env=env, capture_output=True, text=True, timeout=60)
        assert other_job.stdout == "running\n", other_job.stderr
        waiting = subprocess.Popen([str(BIN / "python"), "-c", holds, "attio", "wait"], cwd=PROJECT_ROOT, env=env,
                                   stdout=open(tmp_path / "waiting.log", "w"), stderr=subprocess.STDOUT, text=True)
        for _ in range(100):
            if other_machine.execute("select count(*) from pg_locks where locktype = 'advisory' and not granted"
                                     ).fetchone()[0]:
                break
            time.sleep(0.2)
        assert waiting.poll() is None and "running" not in (tmp_path / "waiting.log").read_text().splitlines()
    finally:
        other_machine.close()  # that machine's run ends (or the machine dies: its connection goes)
    assert waiting.wait(timeout=60) == 0
    said = (tmp_path / "waiting.log").read_text().splitlines()
    assert said[0].startswith("job 'attio' is already running (attio: pid 4242 on worker-b") and "waiting" in said[0]
    assert said[1].startswith("job 'attio' lock acquired after") and said[2] == "running", said

