"""Paging, restatement, quota stops and the CLI end to end, against the simulator."""
from __future__ import annotations

import collections
import json

from tests.runner import cli, run_tap, select_all
from tests.sandbox import BLOG, SHOP

DAILY = ["sessions", "totalUsers", "newUsers", "activeUsers", "screenPageViews", "engagedSessions",
         "userEngagementDuration", "keyEvents", "ecommercePurchases", "totalRevenue"]


def sim_rows(sandbox, pid, dims, mets, start="2026-10-26", end="2026-11-24") -> list:
    body = {"dateRanges": [{"startDate": start, "endDate": end}], "dimensions": [{"name": d} for d in dims],
            "metrics": [{"name": m} for m in mets], "limit": 250000}
    return sandbox.report(pid, body).get("rows", [])


def test_pages_to_the_end(sandbox):
    """A tiny page size: many pages per window, every row once, the count the simulator has."""
    out = run_tap(sandbox.config(page_size=7, window_days=10), only={"landing_pages"})
    recs = out.records("landing_pages")
    expected = sim_rows(sandbox, SHOP, ["date", "landingPage"], ["sessions"])
    assert len(recs) == len(expected) > 100
    assert len({r["row_key"] for r in recs}) == len(recs)
    # paging stops on rowCount: requests = sum over windows of ceil(rows / 7), no empty extra page
    per_window = collections.Counter()
    for r in recs:
        per_window[(r["date"] >= "2026-11-05") + (r["date"] >= "2026-11-15")] += 1
    assert sandbox.state.requests["runReport"] == sum(-(-n // 7) for n in per_window.values())


def test_default_reports_match_the_simulator_and_the_shop(sandbox):
    out = run_tap(sandbox.config())
    daily = out.records("daily_overview")
    assert len(daily) == 30
    rows = sim_rows(sandbox, SHOP, ["date"], DAILY)
    by_date = {r["dimensionValues"][0]["value"]: r for r in rows}
    for rec in daily:
        sim = by_date[rec["date"].replace("-", "")]
        assert rec["sessions"] == int(sim["metricValues"][0]["value"])
    # GA4 purchases on complete days are the world's shop orders of that day
    world = sandbox.state.world
    for rec in daily:
        if rec["date"] >= "2026-11-22":
            continue   # still being processed (restatement window)
        orders = [o for o in world.orders if o.at.date().isoformat() == rec["date"]]
        assert rec["ecommerce_purchases"] == len(orders)
        assert abs(rec["total_revenue"] - sum(o.total for o in orders) / 100) < 0.01
    items = out.records("ecommerce_items")
    assert items and all(isinstance(r["item_revenue"], float) and isinstance(r["items_purchased"], int)
                         for r in items)
    dc = out.records("devices_countries")
    assert dc and all(r["subject_to_thresholding"] for r in dc)
    assert out.schema("daily_overview")["properties"]["sessions"]["type"] == ["integer", "null"]
    assert out.schema("daily_overview")["properties"]["key_events"]["type"] == ["number", "null"]


def test_restated_days_replace_never_duplicate(sandbox):
    only = {"daily_overview", "traffic_acquisition"}
    first = run_tap(sandbox.config(lookback_days=3), only=only)
    assert first.bookmark("daily_overview", SHOP) == "2026-11-24"
    before = {r["date"]: r for r in first.records("daily_overview")}

    sandbox.call(sandbox.state.data.restate)          # GA4 finishes processing the recent days
    second = run_tap(sandbox.config(lookback_days=3), only=only, state=first.state)
    again = second.records("daily_overview")
    assert sorted(r["date"] for r in again) == ["2026-11-22", "2026-11-23", "2026-11-24"]
    for r in again:
        if r["date"] in ("2026-11-23", "2026-11-24"):
            assert r["sessions"] > before[r["date"]]["sessions"]     # restated figures grew
        assert r["row_key"] == before[r["date"]]["row_key"]           # same key: an upsert replaces

    for stream in only:
        merged: dict = {}
        for rec in first.records(stream) + second.records(stream):   # what an upserting loader keeps
            merged[rec["row_key"]] = rec
        keys = collections.Counter((r["property_id"], r["date"],
                                    *[v for k, v in sorted(r.items()) if k.startswith("session_")])
                                   for r in merged.values())
        assert max(keys.values()) == 1
        assert len({r["row_key"] for r in second.records(stream)}) == len(second.records(stream))
    merged = {r["row_key"]: r for r in first.records("daily_overview") + again}
    now = {r["dimensionValues"][0]["value"]: int(r["metricValues"][0]["value"])
           for r in sim_rows(sandbox, SHOP, ["date"], DAILY)}
    assert {r["date"].replace("-", ""): r["sessions"] for r in merged.values()} == now


def test_quota_exhaustion_stops_cleanly_then_resumes(sandbox):
    config = sandbox.config(window_days=1)
    sandbox.call(sandbox.state.quota.set_remaining, SHOP, tokensPerProjectPerHour=60)   # ~7 one-day requests
    first = run_tap(config, only={"daily_overview"}, raise_errors=False)
    assert first.error is not None and first.error.quota == "tokensPerProjectPerHour"
    assert "within the hour" in str(first.error)
    mark = first.bookmark("daily_overview", SHOP)
    days = sorted(r["date"] for r in first.records("daily_overview"))
    assert mark == days[-1] and len(days) == len(set(days))   # state = last complete day, nothing after
    assert "2026-10-26" <= mark < "2026-11-24"

    sandbox.call(sandbox.state.quota.set_remaining, SHOP, tokensPerProjectPerHour=14000)
    second = run_tap(config, only={"daily_overview"}, state=first.state)
    assert second.error is None
    resumed = sorted(r["date"] for r in second.records("daily_overview"))
    assert resumed[0] <= mark     # lookback re-reads the last days before going on
    assert second.bookmark("daily_overview", SHOP) == "2026-11-24"
    assert sorted({*days, *resumed}) == sorted({f"2026-{m:02d}-{d:02d}" for m, d in
                                                [(10, x) for x in range(26, 32)] + [(11, x) for x in range(1, 25)]})


def test_quota_exhaustion_through_the_cli(sandbox, tmp_path):
    config = sandbox.config(window_days=1)
    disc = cli(["--discover"], config, tmp_path)
    cat = tmp_path / "catalog.json"
    cat.write_text(json.dumps(select_all(json.loads(disc.stdout), {"events"})))
    sandbox.call(sandbox.state.quota.set_remaining, SHOP, tokensPerDay=30)
    run = cli(["--catalog", str(cat)], config, tmp_path)
    assert run.returncode == 75
    assert "tokensPerDay" in run.stderr and "Exhausted property tokens per day" in run.stderr
    assert "Traceback" not in run.stderr
    states = [json.loads(line) for line in run.stdout.splitlines() if '"STATE"' in line]
    assert states and states[-1]["value"]["bookmarks"]["events"]["partitions"][0]["replication_key_value"]


def test_several_properties_are_partitions(sandbox):
    out = run_tap(sandbox.config(property_ids=[SHOP, BLOG]), only={"daily_overview", "ecommerce_items"})
    by_prop = collections.Counter(r["property_id"] for r in out.records("daily_overview"))
    assert by_prop == {SHOP: 30, BLOG: 30}
    assert {r["property_id"] for r in out.records("ecommerce_items")} == {SHOP}   # the blog sells nothing
    assert out.bookmark("daily_overview", BLOG) == "2026-11-24"


def test_other_rows_are_flagged(sandbox):
    sandbox.call(sandbox.state.reports.configure, other_row_limit=5)
    out = run_tap(sandbox.config(), only={"landing_pages"})
    recs = out.records("landing_pages")
    other = [r for r in recs if r["is_other_row"]]
    assert other and all(r["landing_page"] == "(other)" for r in other)
    assert all(r["data_loss_from_other_row"] for r in recs)
    assert len({r["row_key"] for r in recs}) == len(recs)


def test_custom_report_with_filter_and_custom_definitions(sandbox):
    report = {"name": "paid_pages", "dimensions": ["landingPage", "customEvent:content_group"],
              "metrics": ["sessions", "customEvent:coupon_value"],
              "dimension_filter": {"filter": {"fieldName": "sessionMedium",
                                              "stringFilter": {"matchType": "EXACT", "value": "cpc"}}}}
    out = run_tap(sandbox.config(reports=[report]))
    recs = out.records("paid_pages")
    assert recs and set(out.schema("paid_pages")["properties"]) >= {"landing_page", "custom_event__content_group",
                                                                   "custom_event__coupon_value"}
    body = {"dateRanges": [{"startDate": "2026-10-26", "endDate": "2026-11-24"}],
            "dimensions": [{"name": "date"}], "metrics": [{"name": "sessions"}],
            "dimensionFilter": report["dimension_filter"]}
    total = sum(int(r["metricValues"][0]["value"]) for r in sandbox.report(SHOP, body)["rows"])
    assert sum(r["sessions"] for r in recs) == total


def test_cli_discover_then_sync_counts_match(sandbox, tmp_path):
    config = sandbox.config()
    disc = cli(["--discover"], config, tmp_path)
    assert disc.returncode == 0, disc.stderr[-2000:]
    catalog = json.loads(disc.stdout)
    assert {s["tap_stream_id"] for s in catalog["streams"]} == {
        "daily_overview", "traffic_acquisition", "landing_pages", "events", "ecommerce_items", "devices_countries"}
    cat = tmp_path / "catalog.json"
    cat.write_text(json.dumps(select_all(catalog)))
    run = cli(["--catalog", str(cat)], config, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    got = collections.Counter(json.loads(line)["stream"] for line in run.stdout.splitlines() if '"RECORD"' in line)
    from tap_ga4.reports import DEFAULT_REPORTS
    for rep in DEFAULT_REPORTS:
        assert got[rep["name"]] == len(sim_rows(sandbox, SHOP, rep["dimensions"], rep["metrics"])), rep["name"]
    assert "GA4 quota: report 'events'" in run.stderr


def test_deselected_column_is_dropped(sandbox):
    from tap_ga4.tap import TapGA4
    from tests.runner import select_all as sel
    config = sandbox.config()
    catalog = sel(TapGA4(config=config).catalog_dict, {"daily_overview"})
    entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "daily_overview")
    for md in entry["metadata"]:
        if md["breadcrumb"] == ["properties", "new_users"]:
            md["metadata"]["selected"] = False
    out = run_tap(config, catalog=catalog, only={"daily_overview"})
    recs = out.records("daily_overview")
    assert recs and all("new_users" not in r and "sessions" in r for r in recs)
    assert "new_users" not in out.schema("daily_overview")["properties"]


def test_a_custom_metric_changing_unit_keeps_its_column_and_its_values(sandbox):
    """GA4's only type change a user can make: a custom metric's unit (Admin API MeasurementUnit,
    e.g. STANDARD -> CURRENCY). Every custom metric type is a floating-point one (TYPE_STANDARD,
    TYPE_CURRENCY, TYPE_SECONDS, ...; never TYPE_INTEGER) and built-in metrics' types are fixed, so
    the column stays `number` across the change: the loader never has to alter a column that
    staging views read. The values before and after equal the simulator's."""
    report = {"name": "coupons", "dimensions": ["sessionMedium"], "metrics": ["customEvent:coupon_value"]}
    body = {"dateRanges": [{"startDate": "2026-10-26", "endDate": "2026-11-24"}],
            "dimensions": [{"name": "date"}, {"name": "sessionMedium"}],
            "metrics": [{"name": "customEvent:coupon_value"}]}
    for unit in ("TYPE_STANDARD", "TYPE_CURRENCY"):
        sandbox.call(sandbox.state.reports.set_metric_type, "customEvent:coupon_value", unit)
        out = run_tap(sandbox.config(reports=[report]))
        column = out.schema("coupons")["properties"]["custom_event__coupon_value"]
        assert "number" in column["type"] and "integer" not in column["type"], (unit, column)
        assert unit in column["description"]
        answer = sandbox.report(SHOP, body)
        assert answer["metricHeaders"][0]["type"] == unit
        expected = sum(float(r["metricValues"][0]["value"]) for r in answer["rows"])
        landed = sum(r["custom_event__coupon_value"] for r in out.records("coupons"))
        assert expected > 0 and abs(landed - expected) < 0.01, (unit, landed, expected)


def test_properties_disagreeing_on_a_metric_type_land_it_as_a_number():
    """One property reports a metric as TYPE_INTEGER, another as a floating-point type: the
    stream (one table for every property) declares the wider type."""
    from tap_ga4.reports import Report, check_against_metadata

    report = Report(name="r", dimensions=["date"], metrics=["sessions", "bounceRate"])
    check_against_metadata(report, {"dimensions": [{"apiName": "date"}], "metrics": [
        {"apiName": "sessions", "type": "TYPE_INTEGER"}, {"apiName": "bounceRate", "type": "TYPE_FLOAT"}]}, SHOP)
    assert report.metric_types == {"sessions": "TYPE_INTEGER", "bounceRate": "TYPE_FLOAT"}
    check_against_metadata(report, {"dimensions": [{"apiName": "date"}], "metrics": [
        {"apiName": "sessions", "type": "TYPE_FLOAT"}, {"apiName": "bounceRate", "type": "TYPE_FLOAT"}]}, BLOG)
    assert report.metric_types == {"sessions": "TYPE_FLOAT", "bounceRate": "TYPE_FLOAT"}
