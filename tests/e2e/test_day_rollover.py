"""A day rollover: `make demo` loaded yesterday, the sandbox restarted today, the pipeline run again.

The sandbox builds its world from a seed and a date. It records the date it first built on in its
state dir and rebuilds that same past on every later start (extract/sandbox/tributary_sandbox/
anchor.py), so what the vendors served yesterday stays what they serve today, as with real
vendors. Before that, a restart on the next day rebuilt history as of the new date: other
amounts and dates under the same ids, and the warehouse's P&L no longer matched its
transactions (`assert_quickbooks__profit_and_loss_matches_the_report`, 4 months off).

TRIBUTARY_SANDBOX_TODAY ("pretend today is") starts the sandbox yesterday.
"""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from this_worker import BIN, PROJECT_ROOT, RUN_DIR
from truth import assert_warehouse_matches_truth

SCALE = 0.1  # a few hundred QuickBooks documents: the same shape as the demo, in seconds
PNL_TEST = "assert_quickbooks__profit_and_loss_matches_the_report"
TRUTH_PATHS = ("/_sandbox/quickbooks/truth/rows", "/_sandbox/attio/truth/rows", "/_sandbox/shopify/truth/rows")


def sandbox_cli(stack, action: str, **env: str) -> None:
    completed = subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", action], cwd=PROJECT_ROOT,
                               env={**stack.env, **env}, capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def restart_sandbox(stack, **env: str) -> dict:
    sandbox_cli(stack, "stop")
    sandbox_cli(stack, "start", SANDBOX_SCALE=str(SCALE), **env)
    return stack.sandbox("GET", "/_sandbox/health")


@pytest.mark.slow  # two pipeline runs a day apart (minutes); the kept reset below stays in make test
def test_a_restart_the_next_day_serves_the_same_past_and_the_pipeline_stays_consistent(stack):
    today = dt.datetime.now(dt.timezone.utc).date()
    yesterday = today - dt.timedelta(days=1)
    stack.reset(scale=SCALE)  # an empty warehouse, no Meltano state
    anchor_file = RUN_DIR / "sandbox" / "world.json"
    try:
        # Day 1: a sandbox started for the first time "yesterday" builds its world as of then.
        anchor_file.unlink(missing_ok=True)
        health = restart_sandbox(stack, TRIBUTARY_SANDBOX_TODAY=yesterday.isoformat())
        assert health["today"] == yesterday.isoformat(), health
        assert health["sandbox_now"].startswith(yesterday.isoformat()), health  # its clock says yesterday too
        served_yesterday = {path: stack.sandbox("GET", path) for path in TRUTH_PATHS}
        first = stack.meltano("run", "quickbooks")
        assert first.ok, first.output[-4000:]

        # Day 2: restarted today (as `make stop` then `make demo` would), it serves the same past
        # while its clock has moved on.
        health = restart_sandbox(stack, TRIBUTARY_SANDBOX_TODAY=today.isoformat())
        assert health["today"] == yesterday.isoformat(), "the restart rebuilt the world as of a new date"
        assert health["sandbox_now"].startswith(today.isoformat()), health
        for path, rows in served_yesterday.items():
            assert stack.sandbox("GET", path) == rows, f"{path}: records served yesterday changed at the restart"

        # The incremental run over yesterday's warehouse: loads, models and passes every QuickBooks
        # test, the P&L-against-transactions reconciliation among them.
        again = stack.meltano("run", "quickbooks")
        assert again.ok, again.output[-4000:]
        assert any(PNL_TEST in line and "PASS" in line for line in again.output.splitlines()), again.output[-4000:]
        assert_warehouse_matches_truth("quickbooks")
    finally:
        # The rest of the session gets a sandbox built afresh as of today, at the stack's own size.
        anchor_file.unlink(missing_ok=True)
        sandbox_cli(stack, "stop")
        sandbox_cli(stack, "start", SANDBOX_SCALE=str(stack.start_scale))


def test_a_reset_through_the_control_api_builds_afresh_as_of_today_and_is_kept(stack):
    """Tests reset the sandbox: that world, not an older one, is what a later start serves."""
    health = stack.sandbox("POST", "/_sandbox/reset", {"scale": SCALE, "today": "2026-01-15"})
    assert health["today"] == "2026-01-15"
    rows = stack.sandbox("GET", "/_sandbox/quickbooks/truth/rows")
    try:
        assert restart_sandbox(stack)["today"] == "2026-01-15"
        assert stack.sandbox("GET", "/_sandbox/quickbooks/truth/rows") == rows
        # a reset that names no date builds as of today
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        assert stack.sandbox("POST", "/_sandbox/reset", {"scale": SCALE})["today"] == today
    finally:
        (RUN_DIR / "sandbox" / "world.json").unlink(missing_ok=True)
        sandbox_cli(stack, "stop")
        sandbox_cli(stack, "start", SANDBOX_SCALE=str(stack.start_scale))
