"""Dagster runs Meltano's jobs and schedules (orchestrate/dagster/), loaded from the project as a
user loads them (`meltano invoke dagster:list`), with the same per-environment switch as the
crontab. No warehouse or sandbox: tests/e2e/test_dagster.py runs a job through Dagster."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = PROJECT_ROOT / "orchestrate" / "dagster" / "definitions.py"
DAGSTER_PYTHON = PROJECT_ROOT / ".meltano" / "utilities" / "dagster" / "venv" / "bin" / "python"
MELTANO = Path(sys.executable).parent / "meltano"


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "TRIBUTARY_SCHEDULES"}
    environment.update(env)
    return subprocess.run(args, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=300)


def meltano_json(*args: str) -> dict:
    completed = run([str(MELTANO), *args])
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def meltano_schedules() -> list[dict]:
    return meltano_json("schedule", "list", "--format=json")["schedules"]["job"]


@pytest.fixture(scope="module")
def meltano_jobs() -> list[dict]:
    return meltano_json("job", "list", "--format=json")["jobs"]


def dagster_python() -> str:
    if not DAGSTER_PYTHON.exists():  # fail, never skip: Dagster is part of the project
        pytest.fail("Dagster is not installed in .meltano/utilities/dagster: run `make install` "
                    "(its `meltano install` installs the dagster utility, orchestrate/dagster.meltano.yml)")
    return str(DAGSTER_PYTHON)


@functools.cache  # one load per environment and setting: each costs Dagster's and Meltano's start-up
def dagster_loaded(environment: str = "dev", **env: str) -> dict:
    """What Dagster loads from the project, through the Meltano command a user runs."""
    dagster_python()
    completed = run([str(MELTANO), "invoke", "dagster:list", "--json"], MELTANO_ENVIRONMENT=environment, **env)
    assert completed.returncode == 0, completed.stdout + completed.stderr[-3000:]
    return json.loads(completed.stdout)


def cron_firing(environment: str, **env: str) -> set[str]:
    """The schedules orchestrate/cron.py writes a firing line for."""
    printed = run([sys.executable, "orchestrate/cron.py", "print"], MELTANO_ENVIRONMENT=environment, **env)
    assert printed.returncode == 0, printed.stderr
    return set(re.findall(r"orchestrate/run\.py --schedule (\S+) ", printed.stdout))


def dagster_firing(loaded: dict) -> set[str]:
    return {item["meltano_schedule"] for item in loaded["schedules"].values() if item["default_status"] == "RUNNING"}


# -- every schedule, as Meltano has it ------------------------------------------------------------
def test_every_meltano_schedule_is_a_dagster_schedule_on_its_cron_running_its_job(meltano_schedules, meltano_jobs):
    loaded = dagster_loaded("prod")
    by_meltano_name = {item["meltano_schedule"]: (name, item) for name, item in loaded["schedules"].items()}
    assert set(by_meltano_name) == {schedule["name"] for schedule in meltano_schedules}
    for schedule in meltano_schedules:  # whatever Meltano lists, GA4 and Shopify included
        name, item = by_meltano_name[schedule["name"]]
        assert item["cron"] == schedule["cron_interval"], name
        assert item["meltano_job"] == schedule["job"]["name"], name
        assert loaded["jobs"][item["job"]]["meltano_job"] == schedule["job"]["name"]
        assert item["default_status"] == "RUNNING"  # prod fires every schedule
    # every Meltano job is a Dagster job, scheduled or not (transform: run it from the UI)
    assert {item["meltano_job"] for item in loaded["jobs"].values()} == {job["job_name"] for job in meltano_jobs}
    assert all(item["ops"] == ["meltano_job"] for item in loaded["jobs"].values())  # one generic op


def test_no_job_or_schedule_is_named_in_the_dagster_code(meltano_schedules, meltano_jobs):
    """No per-job code: a job or schedule added to orchestrate/*.meltano.yml reaches Dagster by itself."""
    code = DEFINITIONS.read_text() + (PROJECT_ROOT / "orchestrate" / "dagster.meltano.yml").read_text()
    names = {schedule["name"] for schedule in meltano_schedules} | {job["job_name"] for job in meltano_jobs}
    for name in names:
        assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", code), name


def test_a_schedule_tick_runs_meltano_schedule_run_for_that_schedule(meltano_schedules):
    """Evaluated as Dagster's daemon does at a tick: the run it requests carries the schedule's name,
    which the op turns into `meltano schedule run NAME` (the schedule's env applies)."""
    snippet = (
        "import json, sys; sys.path.insert(0, 'orchestrate/dagster'); import definitions as d\n"
        "from dagster import build_schedule_context\n"
        "out = {}\n"
        "for s in d.defs.schedules:\n"
        "    [request] = s.evaluate_tick(build_schedule_context()).run_requests\n"
        "    out[s.name] = {**s.tags, **request.tags}\n"
        "print(json.dumps(out))\n")
    completed = run([dagster_python(), "-c", snippet], MELTANO_ENVIRONMENT="prod")
    assert completed.returncode == 0, completed.stderr[-3000:]
    tags = json.loads(completed.stdout.splitlines()[-1])
    for schedule in meltano_schedules:
        name = re.sub(r"\W", "_", schedule["name"])
        assert tags[name]["tributary/meltano-schedule"] == schedule["name"]


# -- which schedules fire: one switch, honoured by the crontab and by Dagster ----------------------
def test_dev_fires_nothing_and_prod_everything_in_both_the_crontab_and_dagster(meltano_schedules):
    every = {schedule["name"] for schedule in meltano_schedules}
    dev = dagster_loaded("dev")
    assert dagster_firing(dev) == set() == cron_firing("dev")
    assert len(dev["schedules"]) == len(every)  # still there, STOPPED: start one in the UI
    assert "environment dev: annotations.tributary.schedules" in dev["switch"]
    assert dagster_firing(dagster_loaded("prod")) == every == cron_firing("prod")


def test_the_variable_overrides_meltano_yml_for_both():
    chosen = "attio-hourly,ga4-daily"
    assert dagster_firing(dagster_loaded("dev", TRIBUTARY_SCHEDULES=chosen)) == {"attio-hourly", "ga4-daily"}
    assert cron_firing("dev", TRIBUTARY_SCHEDULES=chosen) == {"attio-hourly", "ga4-daily"}
    assert dagster_firing(dagster_loaded("prod", TRIBUTARY_SCHEDULES="none")) == set() == cron_firing(
        "prod", TRIBUTARY_SCHEDULES="none")


def test_a_misspelt_schedule_name_stops_both_with_one_line_naming_it():
    env = {"MELTANO_ENVIRONMENT": "prod", "TRIBUTARY_SCHEDULES": "attio-hourly,atio-daily"}
    cron = run([sys.executable, "orchestrate/cron.py", "install", "--crontab-file", "/dev/null"], **env)
    dagster = run([str(MELTANO), "invoke", "dagster:list"], **env)
    for result in (cron, dagster):
        assert result.returncode != 0
        assert "TRIBUTARY_SCHEDULES names 'atio-daily', which Meltano does not know as a schedule" in result.stderr


def test_the_entrypoints_dagster_mode_is_a_command_the_utility_accepts(tmp_path):
    """orchestrate/entrypoint.sh's `dagster` mode, through the real Meltano and Dagster: a stand-in
    meltano adds --help, so Dagster checks every option the mode passes and exits without serving."""
    dagster_python()
    meltano = tmp_path / "meltano"
    meltano.write_text(f'#!/bin/sh\nexec "{MELTANO}" "$@" --help\n')
    meltano.chmod(0o755)
    completed = run([str(PROJECT_ROOT / "orchestrate" / "entrypoint.sh"), "dagster"],
                    TRIBUTARY_MELTANO=str(meltano), DAGSTER_PORT="3111")
    assert completed.returncode == 0, completed.stdout + completed.stderr[-3000:]
    assert "Usage: dagster dev" in completed.stdout and "--host" in completed.stdout and "--port" in completed.stdout


def test_a_run_tag_naming_no_job_of_the_project_runs_nothing(tmp_path):
    """Anyone who can launch a run sets its tags: `../../../x` once ran `meltano run ../../../x`
    and wrote a lock outside output/. Now the op refuses before any lock, log or Meltano run."""
    dagster_python()
    home = tmp_path / "dagster-home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "orchestrate" / "dagster" / "dagster.yaml").read_text())
    outside = PROJECT_ROOT / "output" / "locks" / ".." / ".." / ".." / "x.lock"
    completed = run([str(MELTANO), "invoke", "dagster:execute", "-j", "transform",
                     "--tags", json.dumps({"tributary/meltano-job": "../../../x"})], DAGSTER_HOME=str(home))
    assert completed.returncode != 0
    said = completed.stdout + completed.stderr
    assert "run tag tributary/meltano-job='../../../x' is not a job of this project" in said, said[-3000:]
    assert not outside.resolve().exists() and not (PROJECT_ROOT.parent / "x.lock").exists()
    assert not (PROJECT_ROOT / "output" / "logs" / "dagster" / ".." / ".." / ".." / "x").resolve().exists()


def test_lock_and_log_names_cannot_leave_their_folder(tmp_path):
    sys.path.insert(0, str(PROJECT_ROOT / "orchestrate"))
    import project

    assert project.inside(tmp_path, "attio", ".lock") == tmp_path / "attio.lock"
    for name in ("../x", "..", "a/b", "", "/etc/passwd"):
        with pytest.raises(ValueError, match="is not a job or schedule name"):
            project.inside(tmp_path, name, ".lock")
