"""The operations commands (orchestrate/*.py, entrypoint.sh) without a warehouse or sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "orchestrate"))

import progress  # noqa: E402
import project  # noqa: E402
import run_all  # noqa: E402

ENTRYPOINT = PROJECT_ROOT / "orchestrate" / "entrypoint.sh"


# -- entrypoint.sh: each mode calls the right command ------------------------------------------
@pytest.fixture
def fake_python(tmp_path):
    """Stands in for the venv's python: records the command the entry point would run."""
    script = tmp_path / "python"
    script.write_text('#!/bin/sh\necho "python $*"\n')
    script.chmod(0o755)
    cron = tmp_path / "cron"
    cron.write_text('#!/bin/sh\necho "cron $*"\n')
    cron.chmod(0o755)
    meltano = tmp_path / "meltano"
    meltano.write_text('#!/bin/sh\necho "meltano $*"\n')
    meltano.chmod(0o755)
    return {**os.environ, "TRIBUTARY_PYTHON": str(script), "CRON": str(cron), "TRIBUTARY_MELTANO": str(meltano)}


def entrypoint(env, *args):
    return subprocess.run([str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("args, expected", [
    (["full"], ["python orchestrate/run_all.py"]),
    (["source", "quickbooks"], ["python orchestrate/run.py --wait quickbooks"]),
    (["transform"], ["python orchestrate/run.py --wait transform"]),
    (["dbt"], ["python orchestrate/run.py --wait transform"]),  # the older entry point's name for it
    (["data-quality"], ["python orchestrate/run.py --wait data-quality"]),
    (["schedule"], ["python orchestrate/cron.py install", "cron -f"]),
    (["dagster"], ["meltano invoke dagster:dev --host 127.0.0.1 --port 3000"]),
])
def test_each_entrypoint_mode_runs_its_command(fake_python, args, expected):
    result = entrypoint(fake_python, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected


def test_dagster_mode_listens_on_loopback_unless_told_otherwise(fake_python):
    """Dagster's UI has no login and launches runs: by default only this machine reaches it."""
    result = entrypoint({**fake_python, "DAGSTER_PORT": "3111"}, "dagster")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["meltano invoke dagster:dev --host 127.0.0.1 --port 3111"]
    published = entrypoint({**fake_python, "DAGSTER_HOST": "0.0.0.0"}, "dagster")
    assert published.stdout.splitlines() == ["meltano invoke dagster:dev --host 0.0.0.0 --port 3000"]


@pytest.mark.parametrize("args", [[], ["bogus"], ["source"], ["source", "a", "b"], ["full", "extra"],
                                  ["dagster", "extra"], ["dbt", "run"]])
def test_a_wrong_entrypoint_call_prints_usage_and_exits_2(fake_python, args):
    result = entrypoint(fake_python, *args)
    assert result.returncode == 2
    assert result.stdout == ""  # nothing was run
    assert "usage: entrypoint.sh MODE" in result.stderr and "source NAME" in result.stderr
    assert "dagster" in result.stderr  # the usage lists every mode


# -- cron.py: a crontab from Meltano's schedules, installed idempotently ------------------------
def cron(*args, env=None):
    return subprocess.run([sys.executable, "orchestrate/cron.py", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60)


def meltano_schedules():
    listed = subprocess.run([project.meltano_executable(), "schedule", "list", "--format=json"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True)
    return json.loads(listed.stdout)["schedules"]["job"]


def test_install_writes_one_line_per_meltano_schedule_between_markers_and_keeps_other_lines(tmp_path):
    crontab = tmp_path / "crontab"
    mine = ["MAILTO=ops@example.com", "*/5 * * * * /usr/local/bin/backup.sh"]
    crontab.write_text("\n".join(mine) + "\n")
    env = {"MELTANO_ENVIRONMENT": "prod"}

    assert cron("install", "--crontab-file", str(crontab), env=env).returncode == 0
    once = crontab.read_text()
    assert cron("install", "--crontab-file", str(crontab), env=env).returncode == 0
    assert crontab.read_text() == once  # idempotent

    lines = once.splitlines()
    assert lines[:2] == mine
    schedule_lines = [line for line in lines[2:] if line and not line.startswith("#")]
    schedules = meltano_schedules()
    assert len(schedule_lines) == len(schedules)
    for schedule in schedules:  # whatever Meltano lists: GA4 and Shopify appear by themselves
        [line] = [line for line in schedule_lines if f"--schedule {schedule['name']} " in line]
        assert line.startswith(schedule["cron_interval"] + " ")
        assert f"cd {PROJECT_ROOT} && " in line and " MELTANO_ENVIRONMENT=prod " in line
        assert f"{PROJECT_ROOT}/.venv/bin/python orchestrate/run.py" in line

    assert cron("uninstall", "--crontab-file", str(crontab)).returncode == 0
    assert crontab.read_text().splitlines() == mine


def test_dev_installs_no_firing_line_and_says_why_in_the_crontab(tmp_path):
    """meltano.yml switches every schedule off in dev (the sandbox is up only while you use it)."""
    crontab = tmp_path / "crontab"
    env = {"MELTANO_ENVIRONMENT": "dev", "TRIBUTARY_SCHEDULES": ""}
    result = cron("install", "--crontab-file", str(crontab), env=env)
    assert result.returncode == 0, result.stderr
    assert "installed 0 schedule(s) for the dev environment" in result.stdout
    lines = crontab.read_text().splitlines()
    assert not [line for line in lines if line and not line.startswith("#")]
    for schedule in meltano_schedules():
        [comment] = [line for line in lines if line.startswith(f"# {schedule['name']}: ")]
        assert comment.endswith("— off (meltano.yml, environment dev: annotations.tributary.schedules)")


def test_the_variable_switches_on_only_the_schedules_it_names(tmp_path):
    crontab = tmp_path / "crontab"
    env = {"MELTANO_ENVIRONMENT": "prod", "TRIBUTARY_SCHEDULES": "attio-hourly, shopify-hourly"}
    assert cron("install", "--crontab-file", str(crontab), env=env).returncode == 0
    firing = [line for line in crontab.read_text().splitlines() if line and not line.startswith("#")]
    assert sorted(line.split("--schedule ")[1].split()[0] for line in firing) == ["attio-hourly", "shopify-hourly"]


@pytest.mark.parametrize("value, expected", [
    (None, {"a-daily", "b-hourly"}),  # an environment that says nothing: Meltano's own meaning, all
    ("all", {"a-daily", "b-hourly"}),
    ("none", set()),
    ("b-hourly", {"b-hourly"}),
    (" a-daily ,b-hourly ", {"a-daily", "b-hourly"}),
    (["a-daily"], {"a-daily"}),  # a YAML list in meltano.yml
    ([], set()),
])
def test_the_schedule_switch_values(value, expected):
    assert project.parse_schedule_switch(value, ["a-daily", "b-hourly"], "here") == expected


def test_a_switch_naming_an_unknown_schedule_stops_with_the_known_ones_listed():
    with pytest.raises(SystemExit, match=r"^here names 'c-daily', which Meltano does not know as a schedule: "
                                         r"use all, none or names from `meltano schedule list` \(a-daily, b-hourly\)$"):
        project.parse_schedule_switch("a-daily,c-daily", ["a-daily", "b-hourly"], "here")


def test_print_matches_what_install_writes(tmp_path):
    crontab = tmp_path / "crontab"
    cron("install", "--crontab-file", str(crontab))
    assert cron("print").stdout == crontab.read_text()


# -- sources come from Meltano; locks; the summary's error line --------------------------------
def test_source_jobs_are_the_jobs_with_an_extractor():
    assert project.extracts(["tap-attio target-postgres", "dbt:build_attio"])
    assert not project.extracts(["dbt:build"])
    assert not project.extracts(["data-quality-report:write"])
    sources = project.source_jobs()
    assert {"quickbooks", "attio"} <= set(sources)
    assert "transform" not in sources and "data-quality" not in sources


def test_source_jobs_stands_for_every_job_that_extracts_in_meltanos_order():
    tasks = {"transform": ["dbt:build"], "crm": ["tap-crm target-postgres", "dbt:build_crm"],
             "shop": ["tap-shop target-postgres"], "cross-source": ["dbt:build_cross_source"]}
    assert progress.expand(["source-jobs", "cross-source"], tasks) == ["crm", "shop", "cross-source"]
    assert progress.expand(["shop"], tasks) == ["shop"]


def test_another_business_runs_a_source_job_with_its_own_extractor():
    """`shopify--acme` (make demo-businesses): the shopify job's blocks, its extractor tap-shopify--acme."""
    tasks = {"shopify": ["tap-shopify target-postgres", "dbt:build_shopify"], "cross-source": ["dbt:build_cross_source"]}
    assert project.instance_job("shopify--acme", tasks) == ["tap-shopify--acme target-postgres", "dbt:build_shopify"]
    for not_one in ("shopify", "cross-source--acme", "crm--acme", "shopify--Acme Co", "shopify--"):
        assert project.instance_job(not_one, tasks) is None, not_one


def test_a_second_holder_of_a_job_lock_is_refused_with_the_holder_named(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "LOCK_DIR", tmp_path)
    monkeypatch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{tmp_path / 'meltano.db'}")  # one machine: a file lock
    with project.job_lock("attio"):
        with pytest.raises(project.JobBusy, match=r"job 'attio' is already running \(pid \d+ since .*\); not starting"):
            with project.job_lock("attio"):
                pass
        with project.job_lock("quickbooks"):  # other jobs are not held up
            pass


def test_a_waiting_holder_runs_once_the_first_is_done(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "LOCK_DIR", tmp_path)
    monkeypatch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{tmp_path / 'meltano.db'}")  # one machine: a file lock
    said, order = [], []

    def second():
        with project.job_lock("attio", wait=True, say=said.append):
            order.append("second")

    with project.job_lock("attio"):
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.5)
        order.append("first done")
    waiter.join(10)
    assert order == ["first done", "second"]
    assert "already running" in said[0] and "waiting" in said[0]


# -- a kill -9'd run left RUNNING in Meltano's system database ---------------------------------
def system_database(tmp_path, monkeypatch, rows: list[tuple[str, float]]) -> str:
    """A system database with Meltano's `runs` table and RUNNING rows: (state id, heartbeat age in s)."""
    import sqlite3
    from datetime import datetime, timedelta, timezone

    path = tmp_path / "meltano.db"
    with sqlite3.connect(path) as db:
        db.execute("create table runs (id integer primary key, job_name varchar, run_id varchar, state varchar, "
                   "started_at datetime, last_heartbeat_at datetime, ended_at datetime, payload text, "
                   "payload_flags integer, trigger varchar)")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for state_id, age in rows:
            db.execute("insert into runs (job_name, run_id, state, started_at, last_heartbeat_at, payload, payload_flags) "
                       "values (?, 'x', 'RUNNING', ?, ?, '{}', 0)",
                       (state_id, str(now - timedelta(seconds=age + 30)), str(now - timedelta(seconds=age))))
    uri = f"sqlite:///{path}"
    monkeypatch.setenv("MELTANO_DATABASE_URI", uri)
    monkeypatch.setenv("MELTANO_ENVIRONMENT", "dev")
    return str(path)


def run_states(path: str) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return dict(db.execute("select job_name, state from runs").fetchall())


def test_the_state_ids_of_a_job_are_its_extract_loads(monkeypatch):
    monkeypatch.setenv("MELTANO_ENVIRONMENT", "prod")
    assert project.state_ids(["tap-attio target-postgres", "dbt:build_attio"]) == ["prod:tap-attio-to-target-postgres"]
    assert project.state_ids(["dbt:build"]) == []


# -- the data-quality report's freshness --------------------------------------------------------
def test_an_empty_table_is_empty_not_stale_and_an_old_one_stays_stale():
    import data_quality

    def result(source, table, status, loaded_at, age):
        return {"unique_id": f"source.tributary.{source}.{table}", "status": status, "max_loaded_at": loaded_at,
                "max_loaded_at_time_ago_in_s": age}

    sources = {"results": [  # as dbt 1.11 writes them; an empty table's max() is null, read as year 1
        result("attio", "people", "pass", "2026-11-26T01:00:00+00:00", 600),
        result("attio", "list_entries_key_accounts", "error", "0001-01-01T00:00:00+00:00", 6.4e10),
        result("quickbooks", "accounts", "error", "2026-11-22T01:00:00+00:00", 345600),
        result("ga4", "events", "error", "0001-01-01T00:00:00+00:00", 6.4e10)]}
    freshness = data_quality.freshness_by_source(sources)
    assert freshness["attio"]["status"] == "pass" and freshness["attio"]["oldest"] == 600
    assert freshness["quickbooks"]["status"] == "error"
    assert freshness["ga4"]["status"] == "empty"
    text, attention = data_quality.render("dev", freshness, [], [])
    assert attention and "stale sources: quickbooks." in text
    assert "Empty tables (loaded, but the source has no rows for them; not stale): attio.list_entries_key_accounts, ga4.events." in text
    assert "| ga4 | empty | no rows | 1 |" in text


def test_other_businesses_are_checked_in_rounds_and_their_tests_named_with_their_schema():
    """Several businesses: one dbt call per round checks the k-th other instance of every source
    that has one; a raw table's test carries that instance's schema in its name."""
    import data_quality

    others = {"shopify": ["raw_shopify_acme", "raw_shopify_beta"], "attio": ["raw_attio_acme"], "ga4": []}
    assert data_quality.instance_rounds(others) == [{"shopify": "raw_shopify_acme", "attio": "raw_attio_acme"},
                                                    {"shopify": "raw_shopify_beta"}]
    assert data_quality.instance_rounds({"ga4": []}) == [] and data_quality.instance_rounds({}) == []
    manifest = {"nodes": {
        "test.t.not_null_orders_id": {"depends_on": {"nodes": ["source.tributary.shopify.orders"]}},
        "test.t.two_sources": {"depends_on": {"nodes": ["source.tributary.shopify.orders", "source.tributary.attio.deals"]}},
        "test.t.on_a_model": {"depends_on": {"nodes": ["model.tributary.stg_shopify__orders"]}}}}
    assert data_quality.tested_source({"id": "test.t.not_null_orders_id"}, manifest) == "shopify"
    assert data_quality.tested_source({"id": "test.t.two_sources"}, manifest) is None
    assert data_quality.tested_source({"id": "test.t.on_a_model"}, manifest) is None


def test_sample_rows_of_failing_tests_show_personal_data_by_shape_only():
    """The report lives on disk and goes to whoever investigates: e-mails and names never as they are."""
    import data_quality

    manifest = {"nodes": {"model.tributary.stg_x": {"columns": {
        "nickname": {"meta": {"personal_data": True}}, "amount": {"meta": {}}}}}, "sources": {}}
    personal = data_quality.personal_columns(manifest)
    assert {"nickname", "email", "full_name"} <= personal and "amount" not in personal
    columns = ["customer_id", "nickname", "email", "amount", "note", "values"]
    rows = [("c1", "Bobby", "bob@example.com", 12.5, "wrote from ann.lee@acme.co.uk", {"name": "Ann"}),
            ("c2", None, None, 3, "plain", None)]
    masked = data_quality.mask_sample(columns, rows, personal)
    assert masked == [("c1", "<personal: text, 5 chars>", "<personal: text, 15 chars>", 12.5, "<personal: text, 29 chars>",
                       "<personal: dict, 15 chars>"),
                      ("c2", None, None, 3, "plain", None)]
    test = {"name": "assert_x", "status": "fail", "failures": 2, "path": "tests/x.sql", "message": "",
            "sample": (columns, masked), "kind": "reconciliation", "id": "test.x", "sql": "select 1"}
    text, _ = data_quality.render("dev", {}, [test], [])
    assert "Bobby" not in text and "bob@example.com" not in text and "ann.lee" not in text and "12.5" in text


def test_entry_points_write_files_for_their_owner_only(tmp_path):
    script = ("import sys; sys.path.insert(0, 'orchestrate'); import project; project.private_files(); "
              f"open({str(tmp_path / 'log')!r}, 'w').write('x')")
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True)
    assert (tmp_path / "log").stat().st_mode & 0o777 == 0o600
    entrypoint = (PROJECT_ROOT / "orchestrate" / "entrypoint.sh").read_text()
    assert "\numask 077" in entrypoint
    for name in ("run", "run_all", "progress", "data_quality", "cron"):
        assert "project.private_files()" in (PROJECT_ROOT / "orchestrate" / f"{name}.py").read_text(), name


def test_a_killed_runs_plugin_configs_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("MELTANO_SYS_DIR_ROOT", str(tmp_path))
    run_dir = tmp_path / "run" / "tap-x"
    run_dir.mkdir(parents=True)
    killed, live, fresh = (run_dir / f"tap.{name}.config.json" for name in ("killed-uuid", "live-uuid", "fresh-uuid"))
    for path in (killed, live, fresh):
        path.write_text('{"api_key": "secret"}')
    for path in (killed, live):
        os.utime(path, (time.time() - 120, time.time() - 120))
    monkeypatch.setattr(project, "live_command_lines", lambda: f"/venv/bin/tap-x --config {live}")
    said = []
    project.remove_left_plugin_configs(say=said.append)
    assert not killed.exists() and live.exists() and fresh.exists()  # fresh: a plugin being started
    assert len(said) == 1 and "killed run's plugin config" in said[0]
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o700


def test_a_killed_run_of_the_job_is_marked_failed_with_one_line_and_a_live_one_kept(tmp_path, monkeypatch):
    path = system_database(tmp_path, monkeypatch, [
        ("dev:tap-attio-to-target-postgres", 10),        # silent 10 s, and no Meltano process alive: killed
        ("dev:tap-shopify-to-target-postgres", 10),      # another job's: not this job's business
        ("dev:tap-ga4-to-target-postgres", 0.5)])        # beating: alive
    monkeypatch.setattr(project, "_live_meltano_processes", lambda uri: [])
    said = []
    closed = project.fail_killed_runs(["dev:tap-attio-to-target-postgres", "dev:tap-ga4-to-target-postgres"],
                                      say=said.append)
    assert closed == ["dev:tap-attio-to-target-postgres"]
    assert len(said) == 1 and said[0].startswith("a previous run of dev:tap-attio-to-target-postgres was killed at ")
    assert said[0].endswith("marked failed so this run can start")
    assert run_states(path) == {"dev:tap-attio-to-target-postgres": "FAIL", "dev:tap-shopify-to-target-postgres": "RUNNING",
                                "dev:tap-ga4-to-target-postgres": "RUNNING"}


def test_a_quiet_run_is_left_alone_while_a_meltano_process_may_own_it_unless_silent_a_minute(tmp_path, monkeypatch):
    path = system_database(tmp_path, monkeypatch, [("dev:tap-attio-to-target-postgres", 10),
                                                   ("dev:tap-ga4-to-target-postgres", 120)])
    monkeypatch.setattr(project, "_live_meltano_processes", lambda uri: [4242])
    closed = project.fail_killed_runs(["dev:tap-attio-to-target-postgres", "dev:tap-ga4-to-target-postgres"],
                                      say=lambda line: None)
    assert closed == ["dev:tap-ga4-to-target-postgres"]
    assert run_states(path)["dev:tap-attio-to-target-postgres"] == "RUNNING"


def test_a_run_still_stopping_is_waited_for_until_its_meltano_records_its_end(tmp_path, monkeypatch):
    """The killed worker's meltano, stopping on its parent-death signal, beats until it records its
    run failed: the next run waits for that (Meltano would refuse it meanwhile), then goes on."""
    import sqlite3
    import threading

    path = system_database(tmp_path, monkeypatch, [("dev:tap-attio-to-target-postgres", 0.2)])
    monkeypatch.setattr(project, "_live_meltano_processes", lambda uri: [4242])

    def stopping_meltano() -> None:
        with sqlite3.connect(path) as db:
            for _ in range(3):  # beats on a while, then records its end
                db.execute("update runs set last_heartbeat_at = datetime('now')")
                db.commit()
                time.sleep(1)
            db.execute("update runs set state = 'FAIL'")
    beating = threading.Thread(target=stopping_meltano)
    beating.start()
    said, started = [], time.monotonic()
    still_running = project.wait_for_stopping_runs(["dev:tap-attio-to-target-postgres"], say=said.append, timeout=30)
    beating.join()
    assert still_running == [] and 2.5 < time.monotonic() - started < 10
    assert said[0].startswith("a previous run of dev:tap-attio-to-target-postgres is still stopping")
    assert said[-1].startswith("the previous run stopped after") and len(said) == 2


def test_a_run_beating_past_the_bound_is_left_to_meltano_and_named(tmp_path, monkeypatch):
    system_database(tmp_path, monkeypatch, [("dev:tap-attio-to-target-postgres", 0.2)])
    monkeypatch.setattr(project, "_live_meltano_processes", lambda uri: [4242])  # alive: a `meltano run` by hand
    said = []
    assert project.wait_for_stopping_runs(["dev:tap-attio-to-target-postgres"], say=said.append,
                                          timeout=1.5) == ["dev:tap-attio-to-target-postgres"]
    assert "still running after 2 s, started outside this job's lock" in said[-1]


def test_a_job_run_does_not_pass_dagsters_database_on_to_the_pipeline(monkeypatch):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql://tributary_meltano:secret@db/dagster_instance")
    monkeypatch.setenv("MELTANO_DATABASE_URI", "postgresql+psycopg://tributary_meltano:secret@db/meltano_system")
    env = project.job_run_env("attio")
    assert "DAGSTER_POSTGRES_URL" not in env and env["MELTANO_DATABASE_URI"].endswith("/meltano_system")
    assert env["DBT_TARGET_PATH"] == "target/jobs/attio"


def test_the_summary_names_the_cause_not_meltanos_bookkeeping(tmp_path):
    log = tmp_path / "attio.log"
    log.write_text(
        "2026-11-25T20:08:55.359263Z [info     ] meltano      Running job with name 'x'\n"
        "2026-11-25T20:08:55.359263Z [info     ] tap-attio    CRITICAL Attio refused the API key: check TAP_ATTIO_API_KEY\n"
        "2026-11-25T20:08:55.619329Z [error    ] meltano      Extractor failed\n"
        "2026-11-25T20:08:55.619329Z [error    ] meltano      Block run completed\n"
        "[run.py] exit 1\n")
    assert run_all.last_error_line(log) == "CRITICAL Attio refused the API key: check TAP_ATTIO_API_KEY"


def test_the_summary_gives_dbts_failing_node_and_its_message(tmp_path):
    log = tmp_path / "quickbooks.log"
    log.write_text(
        "2026-11-25T20:39:14.075327Z [info     ] dbt          \x1b[0m20:39:14  \x1b[31mCompleted with 1 error, 0 partial successes, and 0 warnings:\x1b[0m\n"
        "2026-11-25T20:39:14.076041Z [info     ] dbt          \x1b[0m20:39:14    Database Error in model int_x (models/x.sql)\n"
        "2026-11-25T20:39:14.076103Z [info     ] dbt            relation \"staging.stg_y\" does not exist\n"
        "2026-11-25T20:39:14.076200Z [info     ] dbt          \x1b[0m20:39:14  Done. PASS=250 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=251\n"
        "2026-11-25T20:39:14.619329Z [error    ] meltano      Block run completed\n")
    assert run_all.last_error_line(log) == 'Database Error in model int_x: relation "staging.stg_y" does not exist'


def test_the_cross_source_part_leaves_out_what_a_failed_source_feeds():
    assert run_all.cross_source_args([]) == ["run", "cross-source"]
    assert run_all.cross_source_args(["attio"]) == ["invoke", "dbt:build_cross_source", "--exclude", "source:attio+"]


# -- progress.py: the compact view of a job's log ----------------------------------------------
METRIC_LINE = ('2026-12-02T19:47:38.437204Z [info     ] target-postgres METRIC: {"type":"counter","metric":'
               '"record_count","value":%d,"tags":{"stream":"%s","pid":6249}}')
DBT_LINE = "2026-12-02T19:47:44.099605Z [info     ] dbt          \x1b[0m19:47:44  %d of 250 PASS not_null_x ... [PASS in 0.06s]"


def test_progress_counts_the_loaders_records_per_stream_and_dbts_nodes():

    seen = progress.JobProgress()
    for line in ("2026-12-02T19:47:36.437204Z [info     ] meltano      Running job", METRIC_LINE % (28, "accounts"),
                 METRIC_LINE % (1000, "invoices"), METRIC_LINE % (500, "invoices"),
                 '2026-12-02T19:47:38Z [info     ] tap-quickbooks METRIC: {"type":"counter","metric":"record_count","value":9,"tags":{}}',
                 "2026-12-02T19:47:38Z [info     ] target-postgres METRIC: {cut off", DBT_LINE % 1, DBT_LINE % 120,
                 "a line of no one's"):
        seen.feed(line)
    assert seen.records == {"accounts": 28, "invoices": 1500}  # the tap's own counts are not loads
    # 1,528 records from the first line's time to the last count's, 2 s (the dbt lines after it do not count)
    assert seen.summary() == "1,528 records (764 records/s), dbt 120/250"
    assert seen.describe() == "invoices 1,500 · accounts 28 (764 records/s), dbt 120/250"


def test_progress_counts_dbts_own_lines_from_meltano_invoke():
    """`meltano invoke dbt:build` (make full's cross-source part after a failed source) passes dbt's lines
    through without Meltano's prefix."""

    seen = progress.JobProgress()
    for line in ("19:47:40  Running with dbt=1.8.0", "19:47:44  1 of 94 START sql view model staging.x ... [RUN]",
                 "19:47:44  1 of 94 OK created sql view model staging.x ... [CREATE VIEW in 0.05s]",
                 "\x1b[0m19:47:45  37 of 94 PASS not_null_x ... [PASS in 0.06s]"):
        seen.feed(line)
    assert seen.summary() == "no records, dbt 37/94"
    assert seen.describe() == "dbt 37/94"


def test_a_print_interval_that_is_not_a_number_falls_back_and_says_so(monkeypatch, capsys):

    for value, expected in (("abc", 5.0), ("-1", 5.0), ("0", 5.0), ("", 5.0), ("2.5", 2.5)):
        monkeypatch.setenv("TRIBUTARY_PROGRESS_SECONDS", value)
        assert progress.print_interval() == expected
    said = capsys.readouterr().err
    assert "TRIBUTARY_PROGRESS_SECONDS='abc' is not a positive number" in said and said.count("\n") == 3


def test_progress_reads_a_log_as_it_grows_and_waits_for_a_line_to_end(tmp_path, capsys):

    log = tmp_path / "job.log"
    line = METRIC_LINE % (42, "people")
    with open(log, "w") as out, progress.watch(log, "attio", every=0.2) as seen:
        out.write(line[:60])  # a line half written: never read as a line of its own
        out.flush()
        time.sleep(0.8)
        out.write(line[60:] + "\n")
        out.flush()
        time.sleep(0.8)
    assert seen.records == {"people": 42}
    printed = capsys.readouterr().out
    assert re.search(r"^  \[attio \d+ s\] people 42 \([\d,]+ records/s\)$", printed, re.M), printed
