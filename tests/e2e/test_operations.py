"""Operations end to end, part 1: every source at once with one broken (`make full`), then the
data-quality report on what it loaded. The orchestrate/ commands run as a user runs them, against
the test stack. Locks, schedules and Meltano's state in PostgreSQL are part 2
(test_operations_locks.py): two modules, so `make test` runs them side by side."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from this_worker import BIN, PROJECT_ROOT
from ops import OUTPUT, command

QUICKBOOKS_STATE = "dev:tap-quickbooks-to-target-postgres"
SCALE = 0.2  # every source, small: the runs are about isolation and the report, not volume


def table_exists(stack, name: str) -> bool:
    return stack.scalar("select to_regclass(%s) is not null", (name,))


def summary_row(output: str, part: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [part] and ("ok" in line or "FAILED" in line)
                and "(" not in line.split()[1])


# -- failure isolation -------------------------------------------------------------------------
def test_full_run_carries_on_past_a_broken_source_and_names_it(stack):
    stack.reset(scale=SCALE)
    result = command(stack, "run_all.py", TAP_ATTIO_API_KEY="wrong-key")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # the other source loaded and its marts were built
    assert stack.scalar("select count(*) from marts.quickbooks__invoices") > 0
    assert stack.state(QUICKBOOKS_STATE)
    # the summary: a row per source job Meltano knows and the cross-source step; attio failed, with its cause
    listed = subprocess.run([str(BIN / "meltano"), "job", "list", "--format=json"], cwd=PROJECT_ROOT,
                            env=stack.env, capture_output=True, text=True, check=True)
    for job in json.loads(listed.stdout)["jobs"]:
        if any(word.startswith("tap-") for task in job["tasks"] for word in task.split()):
            summary_row(output, job["job_name"])  # ga4 and shopify too, with no code naming them
    assert summary_row(output, "attio").split()[1] == "FAILED"
    assert "TAP_ATTIO_API_KEY" in summary_row(output, "attio")
    summary_row(output, "cross-source")
    assert re.search(r"part\(s\) failed: .*attio", output)
    assert not table_exists(stack, "marts.attio__deal_pipeline")  # left out, not built on nothing
    assert "wrong-key" not in output


def test_full_run_when_every_source_works(stack):
    result = command(stack, "run_all.py", TRIBUTARY_PROGRESS_SECONDS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every part succeeded" in result.stdout
    # the terminal shows each part's progress, not Meltano's log (kept whole in output/logs/full/)
    assert re.search(r"^  \[quickbooks \d+ s\] .*records/s", result.stdout, re.M), result.stdout
    loaded = re.search(r"^quickbooks: ok \([\d.]+ s\) ([\d,]+) records \([\d,]+ records/s\), dbt (\d+)/(\d+)$",
                       result.stdout, re.M)
    assert loaded and int(loaded[1].replace(",", "")) > 0 and loaded[2] == loaded[3], result.stdout
    assert "METRIC" not in result.stdout and "[info" not in result.stdout
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") > 0
    assert stack.scalar("select count(*) from marts.quickbooks__invoices") > 0


def test_the_unit_tests_run_apart_from_the_scheduled_builds(stack):
    """dbt's unit tests check the models' code, not the data: the jobs' builds leave them out
    (transform/transformers.meltano.yml) and `meltano invoke dbt:unit_test` runs every one."""
    defined = sum(len((yaml.safe_load(path.read_text()) or {}).get("unit_tests") or [])
                  for path in (PROJECT_ROOT / "transform" / "models").rglob("*.yml"))
    result = subprocess.run([str(BIN / "meltano"), "invoke", "dbt:unit_test"], cwd=PROJECT_ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert defined > 30 and re.search(rf"Done\. PASS={defined} WARN=0 ERROR=0 SKIP=0 .*TOTAL={defined}\b", output), output
    # the full run before this one ran every job: their builds made models and tested them, no unit test
    last_run = max((OUTPUT / "logs" / "full").iterdir())
    logs = "".join(path.read_text() for path in last_run.rglob("*") if path.is_file())
    assert " START sql table model " in logs and " START test " in logs, sorted(last_run.rglob("*"))
    assert " START unit_test " not in logs


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
    # (a row changed behind the loader's back: the staging table, built from what the loader
    # wrote, no longer matches raw, and the staging-against-raw check names it)
    assert "**Needs attention:**" in report and "assert_attio__staged_deals_match_raw" in report
    reconciliation = report.split("## Reconciliation")[1]
    assert "| assert_attio__staged_deals_match_raw | fail | 1 |" in reconciliation
    assert "raw_value" in reconciliation  # the differing row itself, with its columns
    # the next load re-reads Attio whole and puts the row right
    assert command(stack, "run.py", "attio").returncode == 0


def test_data_quality_calls_an_empty_table_empty_and_an_old_one_stale(stack):
    """An Attio list with no entries loads as a table with no rows: the source has nothing, the
    table is not late. A table whose newest load is days old is stale, as before."""
    # As a load of a list emptied in Attio leaves it (the loader keeps the table, with no rows).
    stack.sql("delete from raw_attio.list_entries_key_accounts returning 1")
    stack.sql("update raw_quickbooks.accounts set _sdc_received_at = _sdc_received_at - interval '4 days' returning 1")
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
        stack.sql("update raw_quickbooks.accounts set _sdc_received_at = _sdc_received_at + interval '4 days' returning 1")
    # With only the empty table left, all is well.
    assert command(stack, "data_quality.py").returncode == 0, latest_report()
    assert "**All is well:**" in latest_report() and "attio.list_entries_key_accounts" in latest_report()
    assert command(stack, "run.py", "attio").returncode == 0  # the list's entries back for the next tests


