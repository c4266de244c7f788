"""Crashes: a `meltano run` killed with SIGKILL mid-stream, the warehouse restarted mid-load.

Each case runs the real pipeline against the sandbox, breaks it at a moment the test chooses
(never a sleep: it waits for rows in the warehouse or requests in the sandbox's log), runs it
again, and holds the warehouse against the sandbox's truth: nothing lost, nothing duplicated,
and Meltano's state for the job neither lost nor ahead of what the warehouse holds.

What a user meets after a kill -9: Meltano's row for the killed run stays RUNNING with a fresh
heartbeat, so until that heartbeat is 5 minutes old every plain run of the same extract-load
(even one after a successful forced run) is refused with a message naming `--force`; the reruns
here use `--force`, as that message says, or the project's own entry point, orchestrate/run.py,
which marks such a run failed (its process is gone) and starts at once.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from this_worker import BIN, PROJECT_ROOT, RUN_DIR
from no_secrets import LogWatch
from truth import assert_warehouse_matches_truth

# The loader commits every 50 rows (default 10,000), as it does many times in a large
# production load: a kill then lands between commits, the case that can lose or repeat rows.
SMALL_BATCHES = {"TARGET_POSTGRES_BATCH_SIZE_ROWS": "50"}
SCALE = 0.1  # 300 Shopify orders, 60 Attio people: a few commits, a few pages
_log_numbers = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def logs(stack):  # from the module's first test on
    return LogWatch(stack)


class BackgroundRun:
    """A `meltano run` in a process group of its own, so one killpg reaches Meltano, the tap and
    the loader (and the QuickBooks wrapper's own child), as a crash or the OOM killer would."""

    def __init__(self, stack, *args: str, env: dict[str, str] | None = None) -> None:
        self.stack = stack
        self.log_path = RUN_DIR / f"background-run-{next(_log_numbers)}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(BIN / "meltano"), *args], cwd=PROJECT_ROOT, env={**stack.env, **(env or {})},
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, what: str, condition, timeout: float = 180) -> None:
        """Poll `condition` until true; fail if the run ends first (the kill would be too late)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the run ended (exit {self.process.returncode}) before {what}:\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"no {what} after {timeout} s:\n{self.output[-3000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._finish()
        deadline = time.monotonic() + 10  # SIGKILL is delivered at once, reaping takes a moment
        while (survivors := processes_in_group(self.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not survivors, f"processes outlived the kill: {survivors}"

    def wait(self, timeout: float = 300) -> int:
        returncode = self.process.wait(timeout=timeout)
        self._finish()
        return returncode

    def _finish(self) -> None:
        self._log.close()
        self.stack.outputs.append(self.output)  # for the no-secrets check


def processes_in_group(pgid: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, …
            found.append(stat.parent.name)
    return found


def last_request_seq(stack) -> int:
    return max((entry["seq"] for entry in stack.sandbox("GET", "/_sandbox/requests")), default=0)


def requests_since(stack, seq: int, path_part: str) -> int:
    """Vendor requests the sandbox logged after `seq` whose path contains `path_part`."""
    return sum(1 for entry in stack.sandbox("GET", f"/_sandbox/requests?since={seq}") if path_part in entry["path"])


def running_rows(state_id: str) -> int:
    """Meltano's runs of this state id still marked RUNNING in the test stack's system database."""
    with sqlite3.connect(RUN_DIR / "meltano.db") as db:
        return db.execute("select count(*) from runs where job_name = ? and state = 'RUNNING'", (state_id,)).fetchone()[0]


def rerun_after_kill(stack, *pipeline: str, env: dict[str, str] | None = None):
    """The rerun a user makes after a crash, past Meltano's check for a run still in progress."""
    result = stack.meltano("run", "--force", *pipeline, env=env)
    assert result.ok, result.output[-4000:]
    return result


# -- Shopify: incremental by updatedAt ------------------------------------------------------------
SHOPIFY = ("tap-shopify", "target-postgres")
SHOPIFY_STATE_ID = "dev:tap-shopify-to-target-postgres"
# Paged, not a bulk operation: pages are what a crash can interrupt between two commits.
SHOPIFY_ENV = {**SMALL_BATCHES, "TAP_SHOPIFY_USE_BULK": "never", "TAP_SHOPIFY_PAGE_SIZE": "50"}


def committed_orders(stack) -> int:
    if not stack.sql("select 1 from information_schema.tables where table_schema = 'raw_shopify' and table_name = 'orders'"):
        return 0
    return stack.scalar("select count(*) from raw_shopify.orders")


@pytest.mark.slow  # a load killed and run again: 100 s (test budget; the QuickBooks kill -9 is slow too)
def test_shopify_killed_mid_stream_then_rerun(stack, logs):
    stack.reset(scale=SCALE)
    total = stack.sandbox("GET", "/_sandbox/shopify/counts")["orders"]
    # Every orders page waits 0.5 s in the sandbox: the run is still reading orders long after
    # the first commits, whatever the machine's speed.
    stack.sandbox("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "shopify", "path_contains": "graphql", "kind": "delay", "seconds": 0.5, "count": 10_000}]})

    run = BackgroundRun(stack, "run", *SHOPIFY, env=SHOPIFY_ENV)
    run.wait_for("two committed batches of orders", lambda: committed_orders(stack) >= 100)
    run.kill()
    killed_at = time.monotonic()
    stack.sandbox("DELETE", "/_sandbox/faults")

    at_kill = committed_orders(stack)
    assert 100 <= at_kill < total, f"{at_kill} of {total} orders at the kill: not mid-stream"
    state = stack.state(SHOPIFY_STATE_ID)
    bookmark = state.get("singer_state", {}).get("bookmarks", {}).get("orders", {}).get("replication_key_value")
    if bookmark:  # a bookmark saved before the kill may not be ahead of the committed rows
        newest = stack.scalar('select max("updatedAt") from raw_shopify.orders')
        assert bookmark <= newest.strftime("%Y-%m-%dT%H:%M:%SZ"), (bookmark, newest)

    refused = stack.meltano("run", *SHOPIFY, env=SHOPIFY_ENV)
    assert not refused.ok and "--force" in refused.output, refused.output[-3000:]

    # The kill left Meltano's temporary plugin configs (the access token, the warehouse password)
    run_dir = stack.env_path("MELTANO_SYS_DIR_ROOT") / "run"
    left = list(run_dir.glob("*/*.config.json"))
    assert {path.name.split(".")[0] for path in left} == {"tap", "target"}, left
    for path in left:  # as the next scheduled run finds them, a while later
        os.utime(path, (time.time() - 120, time.time() - 120))

    # The project's entry point (what cron, `make full` and Dagster use) sees the killed run's
    # process is gone, marks its row failed with one line, and runs the job (load, then dbt build)
    # at once: well inside the 5 minutes Meltano alone would refuse it for.
    rerun = subprocess.run([str(BIN / "python"), "orchestrate/run.py", "shopify"], cwd=PROJECT_ROOT,
                           env={**stack.env, **SHOPIFY_ENV, "TRIBUTARY_OUTPUT_DIR": str(RUN_DIR / "output")},
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    output = rerun.stdout + rerun.stderr
    stack.outputs.append(output)
    assert rerun.returncode == 0, output[-4000:]
    killed_lines = [line for line in output.splitlines() if "was killed at" in line]
    assert len(killed_lines) == 1 and SHOPIFY_STATE_ID in killed_lines[0], output[-4000:]
    assert "marked failed so this run can start" in killed_lines[0]
    assert "already running" not in output
    assert all(not path.exists() for path in left) and output.count("a killed run's plugin config") == len(left)
    assert list(run_dir.glob("*/*.config.json")) == [] and (run_dir.stat().st_mode & 0o777) == 0o700
    assert time.monotonic() - killed_at < 300, "the rerun waited for the killed run's heartbeat to go stale"
    assert running_rows(SHOPIFY_STATE_ID) == 0
    assert_warehouse_matches_truth("shopify")

    # The state the rerun left is whole: the next run finds nothing new and moves nothing.
    newest = stack.scalar('select max("updatedAt") from raw_shopify.orders').strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stack.state(SHOPIFY_STATE_ID)["singer_state"]["bookmarks"]["orders"]["replication_key_value"] == newest
    again = rerun_after_kill(stack, *SHOPIFY, env=SHOPIFY_ENV)
    assert again.records_loaded().get("orders", 0) == 0, again.records_loaded()


# -- Attio: full table, deletions through ACTIVATE_VERSION ----------------------------------------
ATTIO = ("tap-attio", "target-postgres")
ATTIO_ENV = {"TARGET_POSTGRES_BATCH_SIZE_ROWS": "20", "TAP_ATTIO_PAGE_SIZE": "20"}


def test_attio_killed_mid_stream_then_rerun(stack):
    stack.reset(scale=SCALE)
    first = stack.meltano("run", *ATTIO, env=ATTIO_ENV)
    assert first.ok, first.output[-4000:]
    # Changes the killed run was carrying: the rerun must deliver them, deletions included.
    stack.sandbox("POST", "/_sandbox/attio/mutate", {"object": "people", "update": 3, "delete": 4, "create": 5})
    stack.sandbox("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "attio", "path_contains": "/objects/people/records/query", "kind": "delay", "seconds": 1,
         "count": 10_000}]})
    live_before = set(stack.sql("select record_id from raw_attio.people where _sdc_deleted_at is null"))
    old_version = stack.scalar("select max(_sdc_table_version) from raw_attio.people")

    def new_people_committed() -> int:
        return stack.scalar("select count(*) from raw_attio.people where _sdc_table_version > %s", (old_version,))

    run = BackgroundRun(stack, "run", *ATTIO, env=ATTIO_ENV)
    run.wait_for("a committed batch of the new run's people", lambda: new_people_committed() >= 20)
    run.kill()
    stack.sandbox("DELETE", "/_sandbox/faults")
    people = stack.sandbox("GET", "/_sandbox/attio/counts")["people"]
    assert 20 <= new_people_committed() < people, "the kill did not land mid-stream"
    # Deletions are applied only once a stream was read to its end: the half-read stream's
    # unread records stay live.
    live_after = set(stack.sql("select record_id from raw_attio.people where _sdc_deleted_at is null"))
    assert live_before <= live_after, f"the killed run marked {len(live_before - live_after)} unread people deleted"

    rerun_after_kill(stack, *ATTIO, env=ATTIO_ENV)
    assert_warehouse_matches_truth("attio")


def test_a_job_run_right_after_a_kill_waits_for_the_killed_run_to_end_and_runs_whole(stack):
    """A retry can start a second after the kill (Dagster's does): Meltano's row for the killed
    run still looks alive then (its heartbeat is fresh, or its meltano is still stopping), and
    Meltano alone refuses the run as already running. The entry point waits until the row is
    closed, by its own meltano on SIGTERM or by us once it falls silent, then runs."""
    stack.reset(scale=SCALE)
    env = {**stack.env, **ATTIO_ENV, "TRIBUTARY_OUTPUT_DIR": str(RUN_DIR / "output")}
    stack.sandbox("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "attio", "path_contains": "/objects/people/records/query", "kind": "delay", "seconds": 1,
         "count": 10_000}]})
    with open(RUN_DIR / "killed-entry-point.log", "w") as log:
        killed = subprocess.Popen([str(BIN / "python"), "orchestrate/run.py", "attio"], cwd=PROJECT_ROOT, env=env,
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    deadline = time.monotonic() + 180
    while not (stack.sql("select 1 from information_schema.tables where table_schema = 'raw_attio' "
                         "and table_name = 'people'") and stack.scalar("select count(*) from raw_attio.people") >= 20):
        assert killed.poll() is None and time.monotonic() < deadline, (RUN_DIR / "killed-entry-point.log").read_text()[-3000:]
        time.sleep(0.2)
    os.killpg(killed.pid, signal.SIGKILL)  # the entry point, its meltano and the plugins at once
    killed.wait(timeout=30)
    stack.sandbox("DELETE", "/_sandbox/faults")
    assert running_rows("dev:tap-attio-to-target-postgres") == 1  # the killed run's row, heartbeat fresh

    retry = subprocess.run([str(BIN / "python"), "orchestrate/run.py", "attio"], cwd=PROJECT_ROOT, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    output = retry.stdout + retry.stderr
    stack.outputs.append(output)
    assert retry.returncode == 0, output[-4000:]
    # It waited for the row (or, on a machine slow to start Python, found it silent already and
    # closed it): either way one line names the killed run, and Meltano never refused the retry
    # (which it does without the wait: the retry exits 1, "already running").
    assert ("a previous run of dev:tap-attio-to-target-postgres is still stopping" in output
            or "a previous run of dev:tap-attio-to-target-postgres was killed at" in output), output[-4000:]
    assert "already running" not in output
    assert running_rows("dev:tap-attio-to-target-postgres") == 0
    assert_warehouse_matches_truth("attio")


# -- PostgreSQL restarted mid-load -------------------------------------------------------------------
def warehouse(stack, action: str) -> None:
    """Stop or start the test stack's warehouse (tests/conftest.py started it the same way)."""
    subprocess.run([str(BIN / "python"), "load/warehouse.py", action], cwd=PROJECT_ROOT, env=stack.env,
                   check=True, capture_output=True)


def last_error(output: str) -> str:
    """What a user reads last: everything after the final ERROR: marker."""
    return output.split("ERROR:")[-1]


def test_warehouse_restarted_mid_load_fails_clearly_then_rerun_completes(stack):
    stack.reset(scale=SCALE)
    stack.sandbox("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "shopify", "path_contains": "graphql", "kind": "delay", "seconds": 0.5, "count": 10_000}]})
    run = BackgroundRun(stack, "run", *SHOPIFY, env=SHOPIFY_ENV)
    run.wait_for("a committed batch of orders", lambda: committed_orders(stack) >= 50)
    warehouse(stack, "stop")
    try:
        returncode = run.wait(timeout=240)  # the loader's next commit finds the warehouse gone
    finally:
        warehouse(stack, "start")
    stack.sandbox("DELETE", "/_sandbox/faults")

    assert returncode != 0, "the run cannot have succeeded without its warehouse"
    assert "Lost the warehouse at 127.0.0.1:" in last_error(run.output), run.output[-3000:]
    assert "run again" in last_error(run.output) and "Traceback" not in last_error(run.output)
    state = stack.state(SHOPIFY_STATE_ID)
    bookmark = state.get("singer_state", {}).get("bookmarks", {}).get("orders", {}).get("replication_key_value")
    if bookmark:
        newest = stack.scalar('select max("updatedAt") from raw_shopify.orders')
        assert bookmark <= newest.strftime("%Y-%m-%dT%H:%M:%SZ"), (bookmark, newest)

    # A failed run leaves no RUNNING row behind: the plain rerun is accepted.
    rerun = stack.meltano("run", *SHOPIFY, env=SHOPIFY_ENV)
    assert rerun.ok, rerun.output[-4000:]
    assert_warehouse_matches_truth("shopify")


def test_no_secret_in_any_log_of_these_runs(stack, logs):
    """Runs last in this module: the killed runs' output included."""
    logs.assert_no_secret()


def test_no_secret_in_any_file_the_runs_left(stack):
    """After normal and killed runs, no configured secret in any file the pipeline wrote: Meltano's
    folder (its run/ folder held each plugin's config), logs, dbt's files, the job outputs. (The
    warehouse keeps password hashes only; the sandbox's own folder is the vendors'.)"""
    # The Attio case above reran its killed run with a plain `meltano run`, which cleans nothing:
    # the job's next run through the project's entry point (cron, make full, Dagster) does, as
    # it would find them a while later
    run_dir = stack.env_path("MELTANO_SYS_DIR_ROOT") / "run"
    for path in run_dir.glob("*/*.config.json"):
        os.utime(path, (time.time() - 120, time.time() - 120))
    next_run = subprocess.run([str(BIN / "python"), "orchestrate/run.py", "attio"], cwd=PROJECT_ROOT,
                              env={**stack.env, "TRIBUTARY_OUTPUT_DIR": str(RUN_DIR / "output")},
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    stack.outputs.append(next_run.stdout + next_run.stderr)
    assert next_run.returncode == 0, (next_run.stdout + next_run.stderr)[-3000:]
    secrets = {"shpat_tributary_sandbox_token", "sandbox-attio-api-key", "tributary-loader-dev",
               "tributary-transformer-dev", "tributary-dev", "sandbox-client-secret"}
    folders = [stack.env_path("MELTANO_SYS_DIR_ROOT"), stack.env_path("XDG_STATE_HOME"),
               stack.env_path("DBT_LOG_PATH"), stack.env_path("DBT_TARGET_PATH"), RUN_DIR / "output"]
    scanned, leaked = 0, []
    for folder in folders:
        for path in folder.rglob("*") if folder.is_dir() else []:
            # (the installed plugins are linked in from the project: not this run's files)
            if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
                text = path.read_bytes().decode(errors="replace")
                scanned += 1
                leaked += [f"{path}: {secret[:6]}…" for secret in secrets if secret in text]
    assert scanned > 20, f"only {scanned} files: nothing to prove"
    assert not leaked, leaked


# -- QuickBooks: incremental by LastUpdatedTime, deletions through change data capture ------------
QUICKBOOKS = ("tap-quickbooks", "target-postgres")
QUICKBOOKS_STATE_ID = "dev:tap-quickbooks-to-target-postgres"
QUICKBOOKS_ENV = {**SMALL_BATCHES, "TAP_QUICKBOOKS_MAX_RESULTS": "50"}  # more pages to land between


@pytest.mark.slow
def test_quickbooks_killed_mid_stream_then_rerun(stack):
    stack.reset(scale=SCALE)
    first = stack.meltano("run", *QUICKBOOKS, env=QUICKBOOKS_ENV)
    assert first.ok, first.output[-4000:]
    state_before = stack.state(QUICKBOOKS_STATE_ID)
    # New, edited and deleted documents for the killed run to carry, the deletions through CDC.
    stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 11, "new": 6, "updated": 6, "deleted": 4})
    stack.sandbox("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "quickbooks", "path_contains": "/v3/company/", "kind": "delay", "seconds": 1, "count": 10_000}]})
    since = last_request_seq(stack)

    run = BackgroundRun(stack, "run", *QUICKBOOKS, env=QUICKBOOKS_ENV)
    run.wait_for("the 2nd page of entities", lambda: requests_since(stack, since, "/batch") >= 2)
    run.kill()
    stack.sandbox("DELETE", "/_sandbox/faults")
    # Meltano may have kept a bookmark the loader confirmed; it must not have lost the old one.
    state_at_kill = stack.state(QUICKBOOKS_STATE_ID)
    assert set(state_before["singer_state"]["bookmarks"]) <= set(state_at_kill["singer_state"]["bookmarks"])

    rerun_after_kill(stack, *QUICKBOOKS, env=QUICKBOOKS_ENV)
    assert_warehouse_matches_truth("quickbooks")
    assert stack.state(QUICKBOOKS_STATE_ID)["singer_state"]["bookmarks"]["deleted_objects"]["LastUpdatedTime"]
