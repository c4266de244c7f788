"""Several businesses' GA4 properties in one warehouse (issue #18), end to end: a second business
declared the Meltano way, an extractor inheriting from tap-ga4 (tap-ga4--second,
extract/extractors.meltano.yml) with its own property, service account, state and raw schema
(raw_ga4_second); the sandbox serves it as a business of its own under /instances/second/. The GA4
models read both schemas (TRIBUTARY_GA4_SCHEMAS) and carry each row's business as source_relation."""

from __future__ import annotations

import datetime as dt

import pytest

import test_ga4_pipeline
from incremental import assert_a_full_refresh_changes_nothing, instance_rows

SCALE = 0.1
# raw schema -> (where the sandbox serves the business, its property)
BUSINESSES = {"raw_ga4": ("", "412345678"), "raw_ga4_second": ("/instances/second", "651338200")}
# Two months of reports, not the dev environment's two years: the test is about the businesses
# staying apart, and every window of history is a request per report.
START = (dt.date.today() - dt.timedelta(days=60)).isoformat()
BOTH = {"TRIBUTARY_GA4_SCHEMAS": "raw_ga4,raw_ga4_second", "TAP_GA4_START_DATE": START, "TAP_GA4__SECOND_START_DATE": START}
JOBS = {"raw_ga4": ["ga4"], "raw_ga4_second": ["tap-ga4--second", "target-postgres", "dbt:build_ga4"]}


def api_sessions_by_day(stack, business: str) -> dict[str, int]:
    """Sessions per day straight from the business's simulated Data API, over the days loaded."""
    hooks, property_id = BUSINESSES[business]
    return test_ga4_pipeline.api_sessions_by_day(stack, hooks, property_id, START)


def mart_sessions_by_day(stack, business: str) -> dict[str, int]:
    return {str(day): int(sessions) for day, sessions in stack.sql(
        "select report_date, sum(sessions) from marts.ga4__traffic_daily where source_relation = %s group by 1",
        (business,))}


def business_rows(stack, business: str) -> dict[str, tuple]:
    tables = ("marts.ga4__traffic_daily", "staging.stg_ga4__daily_overview", "staging.stg_ga4__landing_pages",
              "staging.stg_ga4__events")
    return instance_rows(stack, tables, business)


def run(stack, job: list[str], **env: str):
    result = stack.meltano("run", *job, env={**BOTH, **env}, timeout=900)
    assert result.ok, result.output[-4000:]
    return result


@pytest.fixture(scope="module")
def two_businesses(stack):
    stack.reset(scale=SCALE)
    for job in JOBS.values():
        run(stack, job)
    yield
    stack.reset()


def test_each_business_marts_equal_its_own_property(stack, two_businesses):
    for business, (_, property_id) in BUSINESSES.items():
        api = api_sessions_by_day(stack, business)
        assert mart_sessions_by_day(stack, business) == api, business
        assert {p for (p,) in stack.sql(f"select distinct property_id from {business}.daily_overview")} == {property_id}
    assert api_sessions_by_day(stack, "raw_ga4") != api_sessions_by_day(stack, "raw_ga4_second")
    total = sum(sum(api_sessions_by_day(stack, business).values()) for business in BUSINESSES)
    assert stack.scalar("select sum(sessions) from marts.ga4__traffic_daily") == total
    assert stack.state("dev:tap-ga4--second-to-target-postgres"), "the second business keeps its own state"


def test_a_restatement_in_one_business_touches_no_other(stack, two_businesses):
    first_before = business_rows(stack, "raw_ga4")
    stack.sandbox("POST", "/instances/second/_sandbox/ga4/restate", {})
    run(stack, JOBS["raw_ga4_second"])
    assert mart_sessions_by_day(stack, "raw_ga4_second") == api_sessions_by_day(stack, "raw_ga4_second")
    assert business_rows(stack, "raw_ga4") == first_before
    assert_a_full_refresh_changes_nothing(stack, "ga4", 6, env=BOTH)


def test_a_wrong_key_fails_only_its_own_business(stack, two_businesses):
    # The first business's service account: a real key, but with no access to this property.
    first_key = stack.env["TAP_GA4_SERVICE_ACCOUNT_KEY"]
    result = stack.meltano("run", *JOBS["raw_ga4_second"], env={**BOTH, "TAP_GA4__SECOND_SERVICE_ACCOUNT_KEY": first_key})
    assert not result.ok
    assert "403 PERMISSION_DENIED" in result.output, result.output[-3000:]
    assert "TAP_GA4__SECOND_SERVICE_ACCOUNT_KEY" in result.output, result.output[-3000:]
    stack.sandbox("POST", "/_sandbox/ga4/restate", {})
    run(stack, JOBS["raw_ga4"])
    assert mart_sessions_by_day(stack, "raw_ga4") == api_sessions_by_day(stack, "raw_ga4")



def test_a_business_loaded_while_another_was_built_is_not_passed_over(stack, two_businesses):
    """Each business's job has its own lock, so their runs overlap, and a GA4 row carries its run's
    start: a build holding the first business's newer run must still read the second business's
    run that started earlier (one watermark per business, macros/ga4/ga4_latest_load.sql)."""
    started = stack.scalar("select max(_sdc_sync_started_at) from raw_ga4_second.daily_overview")
    day = stack.scalar("select max(date) from raw_ga4_second.daily_overview where _sdc_sync_started_at = %s", (started,))
    # The second business's next run, started 1 ms after its last: one day's figures changed.
    stack.sql("with changed as (update raw_ga4_second.daily_overview set sessions = sessions + 5, "
              "_sdc_sync_started_at = _sdc_sync_started_at + 1, _sdc_batched_at = now() at time zone 'UTC' "
              "where date = %s returning 1) select count(*) from changed", (day,))
    # Meanwhile the table was built holding the first business's run of an hour later.
    stack.sql("with moved as (update staging.stg_ga4__daily_overview set _load_started_at = _load_started_at "
              "+ interval '1 hour' where source_relation = 'raw_ga4' returning 1) select count(*) from moved")
    built = stack.meltano("invoke", "dbt:build_ga4", "--select", "stg_ga4__daily_overview", env=BOTH)
    assert built.ok, built.output[-3000:]
    assert stack.scalar("select sessions from staging.stg_ga4__daily_overview where source_relation = 'raw_ga4_second' "
                        "and report_date = %s::date", (day,)) == \
        stack.scalar("select sessions from raw_ga4_second.daily_overview where date = %s", (day,))
    rebuilt = stack.meltano("invoke", "dbt:build_ga4", "--full-refresh", env=BOTH)
    assert rebuilt.ok, rebuilt.output[-3000:]

