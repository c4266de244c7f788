"""Metric values a hostile GA4 can send: "NaN", "Infinity", "-Infinity" (ratios over nothing),
for float and integer metrics alike. One rule: a value that is not a finite number lands as
NULL and is counted in the log; the tap never crashes on it. Text that is no number at all
stops the run naming the report and the metric."""
from __future__ import annotations

import json
import logging
import re

from tap_ga4 import client
from tests.runner import run_tap
from tributary_tap_support.testing import select_all, sync_lines

from tap_ga4.tap import TapGA4


def tamper(monkeypatch, change):
    """Every report answer passes through `change(body) -> body`, before the tap reads it."""
    real = client.GA4Stream.validate_response

    def validate_response(self, response):
        if "runReport" in response.request.url and response.status_code == 200:
            response._content = json.dumps(change(json.loads(response.content))).encode()
        return real(self, response)
    monkeypatch.setattr(client.GA4Stream, "validate_response", validate_response)


def first_row_metrics(*values: str):
    def change(body: dict) -> dict:
        if body.get("rows"):
            for metric, value in zip(body["rows"][0]["metricValues"], values):
                metric["value"] = value
        return body
    return change


def test_nan_and_infinity_land_as_null_for_float_and_integer_metrics_and_are_counted(sandbox, monkeypatch, caplog):
    # daily_overview: sessions, totalUsers (integers) ... totalRevenue (a float, the last)
    whole = run_tap(sandbox.config(), only={"daily_overview"}).records("daily_overview")
    tamper(monkeypatch, first_row_metrics("NaN", "Infinity", "-Infinity", "1.0"))
    with caplog.at_level(logging.WARNING):
        out = run_tap(sandbox.config(), only={"daily_overview"})
    records = out.records("daily_overview")
    assert len(records) == len(whole)
    hit = [r for r in records if r["sessions"] is None]
    assert hit and all(r["total_users"] is None and r["new_users"] is None and r["active_users"] == 1 for r in hit)
    assert any("metric values were not finite numbers (NaN or Infinity) and landed as NULL" in m
               for m in caplog.messages)


def test_a_float_metric_that_is_nan_lands_as_null(sandbox, monkeypatch):
    def revenue_nan(body: dict) -> dict:
        for row in body.get("rows", [])[:1]:
            row["metricValues"][-1]["value"] = "NaN"
        return body
    tamper(monkeypatch, revenue_nan)
    records = run_tap(sandbox.config(), only={"daily_overview"}).records("daily_overview")
    assert any(r["total_revenue"] is None for r in records)


def test_a_metric_that_is_not_a_number_stops_the_run_naming_report_and_metric(sandbox, monkeypatch):
    tamper(monkeypatch, first_row_metrics("lots"))
    config = sandbox.config()
    tap = TapGA4(config=config, catalog=select_all(TapGA4(config=config).catalog_dict, {"daily_overview"}))
    _, error = sync_lines(tap, raise_errors=False)
    assert error is not None and "report 'daily_overview': GA4 answered metric sessions with 'lots'" in str(error)


def test_a_window_stopped_mid_paging_sends_none_of_its_rows(sandbox, monkeypatch):
    """Quota spent on page 3 of a window: the rows of its pages 1 and 2 used to be loaded, and
    staging then showed a settled day with part of its rows. Now a window lands whole or not at
    all; the bookmark is the last whole window's end, and the next run sends the window whole."""
    config = sandbox.config(page_size=7, window_days=10)
    whole = run_tap(config, only={"landing_pages"}).records("landing_pages")
    first_window_end = "2026-11-04"  # 30 days from 2026-10-26, in windows of 10
    real = client.GA4Stream.validate_response
    calls = []

    def quota_on_a_later_page(self, response):
        calls.append(json.loads(response.request.body))
        window = calls[-1]["dateRanges"][0]["startDate"]
        if window > first_window_end and int(calls[-1]["offset"]) == 14:  # the second window's third page
            raise client.QuotaExhausted("tokensPerHour", "Exhausted property tokens per hour", "within the hour",
                                        calls[-1].get("property"))
        return real(self, response)
    monkeypatch.setattr(client.GA4Stream, "validate_response", quota_on_a_later_page)
    stopped = run_tap(config, only={"landing_pages"}, raise_errors=False)
    assert isinstance(stopped.error, client.QuotaExhausted)
    dates = {r["date"] for r in stopped.records("landing_pages")}
    assert dates and max(dates) <= first_window_end  # nothing of the broken window
    assert {r["row_key"] for r in stopped.records("landing_pages")} == \
        {r["row_key"] for r in whole if r["date"] <= first_window_end}
    assert stopped.bookmark("landing_pages", next(iter({r["property_id"] for r in whole}))) == first_window_end


def test_a_200_that_is_not_a_report_is_asked_again_then_fails_naming_the_report(sandbox, monkeypatch):
    """An empty body read as "a report without rows" would land a settled day with no rows."""
    monkeypatch.setattr(client.GA4Stream, "backoff_base_seconds", 0.01)
    answers = []

    def not_a_report(body: dict) -> dict:
        answers.append(1)
        return {} if len(answers) <= 2 else body
    tamper(monkeypatch, not_a_report)
    records = run_tap(sandbox.config(), only={"daily_overview"}).records("daily_overview")
    assert len(records) == 30  # asked again, then whole

    tamper(monkeypatch, lambda body: {"rows": []})
    config = sandbox.config()
    tap = TapGA4(config=config, catalog=select_all(TapGA4(config=config).catalog_dict, {"daily_overview"}))
    lines, error = sync_lines(tap, raise_errors=False)
    assert error is not None and "report 'daily_overview': GA4 answered 200 with a body that is not a report" in str(error)
    assert not [line for line in lines if '"RECORD"' in line]


def test_custom_definition_names_become_safe_stable_columns():
    """A custom definition's name is the property owner's choice; its column is plain, at most 63
    bytes, never shared with another definition and the same for the definition's life."""
    from tap_ga4.reports import column_name

    assert column_name("sessionDefaultChannelGroup") == "session_default_channel_group"
    assert column_name("customEvent:coupon_value") == "custom_event__coupon_value"
    hostile = ['customEvent:x") FROM PROGRAM \'id\' --', "customEvent:Plan Type", "customEvent:plan_type ",
               "customEvent:" + "y" * 80, "customUser:prénom", "customEvent:$$x$$;drop"]
    columns = [column_name(name) for name in hostile]
    assert all(re.fullmatch(r"[a-z0-9_]+", c) and len(c.encode()) <= 63 for c in columns), columns
    assert len(set(columns + ["custom_event__plan_type"])) == len(columns) + 1  # none meets another
    assert columns == [column_name(name) for name in hostile]  # stable
