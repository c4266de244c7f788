"""GA4 end to end: tap-ga4 → target-postgres → dbt, run by Meltano against the sandbox, and the
warehouse held against what the GA4 API itself answers."""

from __future__ import annotations

import json
import urllib.request

import pytest

from incremental import an_hour_passes, assert_a_full_refresh_changes_nothing, inserted_rows
from this_worker import SANDBOX_PORT

PIPELINE = ("run", "tap-ga4", "target-postgres")
PROPERTY = "412345678"


def api_sessions_by_day(stack, hooks: str = "", property_id: str = PROPERTY, start: str = "2024-01-01") -> dict[str, int]:
    """Sessions per day straight from the simulated Data API (one big report); `hooks`: where the
    sandbox serves the business ("/instances/<name>" for another one)."""
    token = stack.sandbox("POST", f"{hooks}/_sandbox/ga4/token", {})["access_token"]
    body = {"dateRanges": [{"startDate": start, "endDate": "yesterday"}], "dimensions": [{"name": "date"}],
            "metrics": [{"name": "sessions"}], "limit": "250000"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{SANDBOX_PORT}{hooks}/ga4/v1beta/properties/{property_id}:runReport",
        data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        report = json.loads(response.read())
    return {f"{r['dimensionValues'][0]['value'][:4]}-{r['dimensionValues'][0]['value'][4:6]}-"
            f"{r['dimensionValues'][0]['value'][6:]}": int(r["metricValues"][0]["value"]) for r in report["rows"]}


def warehouse_sessions_by_day(stack) -> dict[str, int]:
    return {str(day): int(sessions) for day, sessions in stack.sql(
        "select date, sessions from raw_ga4.daily_overview where property_id = %s", (PROPERTY,))}


@pytest.fixture(scope="module")
def first_run(stack):
    stack.reset()
    result = stack.meltano("run", "ga4")
    assert result.ok, result.output[-4000:]


def test_the_warehouse_equals_the_api(stack, first_run):
    assert warehouse_sessions_by_day(stack) == api_sessions_by_day(stack)
    for table in ("daily_overview", "traffic_acquisition", "landing_pages", "events", "ecommerce_items",
                  "devices_countries"):
        assert stack.scalar(f"select count(*) from raw_ga4.{table}") > 0, table


def test_traffic_mart_adds_up_to_the_api(stack, first_run):
    mart_sessions = stack.scalar("select sum(sessions) from marts.ga4__traffic_daily")
    assert mart_sessions == sum(api_sessions_by_day(stack).values())
    channels = {c for (c,) in stack.sql("select distinct session_default_channel_group from marts.ga4__traffic_daily")}
    assert {"Organic Search", "Direct", "Email"} <= channels


def test_restated_days_replace_and_never_duplicate(stack, first_run):
    before = warehouse_sessions_by_day(stack)
    rows_before = stack.scalar("select count(*) from raw_ga4.traffic_acquisition")
    stack.sandbox("POST", "/_sandbox/ga4/restate", {})
    result = stack.meltano("run", "ga4")  # the job: the load, then the incremental build
    assert result.ok, result.output[-4000:]
    after = warehouse_sessions_by_day(stack)
    assert after == api_sessions_by_day(stack)
    latest = max(after)
    assert after[latest] > before[latest], "the partial latest day must have grown"
    assert {d: v for d, v in after.items() if d < sorted(after)[-3]} == \
        {d: v for d, v in before.items() if d < sorted(after)[-3]}, "settled days must not change"
    duplicates = stack.scalar("""select count(*) from (select date, session_source, session_medium,
        session_campaign_name, session_default_channel_group from raw_ga4.traffic_acquisition
        group by 1, 2, 3, 4, 5 having count(*) > 1) d""")
    assert duplicates == 0
    assert stack.scalar("select count(*) from raw_ga4.traffic_acquisition") >= rows_before
    assert stack.scalar("select sum(sessions) from marts.ga4__traffic_daily") == sum(after.values())
    assert_a_full_refresh_changes_nothing(stack, "ga4", 6)  # the restated days replaced whole


REPORTS = ("daily_overview", "traffic_acquisition", "landing_pages", "events", "ecommerce_items", "devices_countries")


@pytest.mark.slow  # two more job runs; the full-refresh check is in make test too
def test_a_daily_build_rebuilds_only_the_reread_days_and_equals_a_full_refresh(stack, first_run):
    """The staging reports are incremental by day: a scheduled build reads the days its runs re-read
    (the look-back window), replaces them whole, and leaves every other day as a full rebuild has it."""
    an_hour_passes(stack, [*((f"raw_ga4.{report}", column) for report in REPORTS
                             for column in ("_sdc_batched_at", "_sdc_sync_started_at")),
                           *((f"staging.stg_ga4__{report}", column) for report in REPORTS
                             for column in ("_loaded_at", "_load_started_at"))])
    for _ in range(2):
        stack.sandbox("POST", "/_sandbox/ga4/restate", {})
        result = stack.meltano("run", "ga4")
        assert result.ok, result.output[-4000:]
    reread_days = stack.scalar("""select count(*) from raw_ga4.daily_overview
                                  where to_timestamp(_sdc_sync_started_at / 1000.0) > now() - interval '30 minutes'""")
    all_days = stack.scalar("select count(*) from staging.stg_ga4__daily_overview")
    assert 0 < inserted_rows(result.output, "stg_ga4__daily_overview") == reread_days < all_days / 10
    assert stack.scalar("select sum(sessions) from marts.ga4__traffic_daily") == sum(api_sessions_by_day(stack).values())
    assert_a_full_refresh_changes_nothing(stack, "ga4", len(REPORTS))


def test_quota_exhaustion_stops_cleanly_and_the_next_run_resumes(stack):
    stack.reset()
    stack.sandbox("POST", "/_sandbox/ga4/quota", {"property_id": PROPERTY, "tokensPerHour": 300})
    stopped = stack.meltano(*PIPELINE)
    assert not stopped.ok
    assert "tokensPerHour" in stopped.output and "resume" in stopped.output
    state = stack.state("dev:tap-ga4-to-target-postgres")
    assert state, "the days loaded before the stop must be bookmarked"
    partial = warehouse_sessions_by_day(stack)
    stack.sandbox("POST", "/_sandbox/ga4/quota", {"property_id": PROPERTY, "tokensPerHour": 40000})
    resumed = stack.meltano(*PIPELINE)
    assert resumed.ok, resumed.output[-4000:]
    assert warehouse_sessions_by_day(stack) == api_sessions_by_day(stack)
    assert len(partial) < len(api_sessions_by_day(stack))


def test_a_bad_dimension_is_named(stack, first_run):
    reports = json.dumps([{"name": "broken", "dimensions": ["date", "sessionSourceTypo"], "metrics": ["sessions"]}])
    result = stack.meltano(*PIPELINE, env={"TAP_GA4_REPORTS": reports})
    assert not result.ok
    assert "sessionSourceTypo" in result.output

