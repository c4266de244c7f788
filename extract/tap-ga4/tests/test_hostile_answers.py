"""Metric values a hostile GA4 can send: "NaN", "Infinity", "-Infinity" (ratios over nothing),
for float and integer metrics alike. One rule: a value that is not a finite number lands as
NULL and is counted in the log; the tap never crashes on it. Text that is no number at all
stops the run naming the report and the metric."""
from __future__ import annotations

import json
import logging

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
