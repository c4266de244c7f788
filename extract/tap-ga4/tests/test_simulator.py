"""The simulator speaks the Data API as Google's clients send it."""
from __future__ import annotations

import requests

from tests.sandbox import SHOP


def _post(sandbox, body, token=None, pid=SHOP):
    if token is None:
        token = requests.post(f"{sandbox.url}/_sandbox/ga4/token", timeout=10).json()["access_token"]
    return requests.post(f"{sandbox.api_url}/v1beta/properties/{pid}:runReport", json=body,
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_proto_json_as_the_client_library_sends_it(sandbox):
    body = {"date_ranges": [{"start_date": "7daysAgo", "end_date": "yesterday"}],
            "dimensions": [{"name": "date"}, {"name": "deviceCategory"}], "metrics": [{"name": "sessions"}],
            "limit": "5", "offset": "2", "order_bys": [{"dimension": {"dimension_name": "date", "order_type": 1}}],
            "dimension_filter": {"filter": {"field_name": "deviceCategory",
                                            "string_filter": {"match_type": 1, "value": "mobile"}}},
            "return_property_quota": True}
    r = _post(sandbox, body)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["kind"] == "analyticsData#runReport" and len(data["rows"]) == 5 and data["rowCount"] == 7
    assert all(isinstance(v["value"], str) for row in data["rows"] for v in row["metricValues"])
    assert {row["dimensionValues"][1]["value"] for row in data["rows"]} == {"mobile"}
    assert data["metricHeaders"] == [{"name": "sessions", "type": "TYPE_INTEGER"}]
    q = data["propertyQuota"]
    assert set(q) == {"tokensPerDay", "tokensPerHour", "concurrentRequests", "serverErrorsPerProjectPerHour",
                      "potentiallyThresholdedRequestsPerHour", "tokensPerProjectPerHour"}
    assert q["tokensPerDay"]["consumed"] > 0


def test_errors_are_googles(sandbox):
    base = {"dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-02"}], "metrics": [{"name": "sessions"}]}
    r = _post(sandbox, {**base, "bogus": 1})
    assert r.status_code == 400 and 'Unknown name "bogus"' in r.json()["error"]["message"]
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = _post(sandbox, {**base, "dimensions": [{"name": f"d{i}"} for i in range(10)]})
    assert r.status_code == 400 and "limited to 9 dimensions" in r.json()["error"]["message"]
    r = _post(sandbox, {**base, "metrics": [{"name": "sessions"}] * 11})
    assert r.status_code == 400 and "limited to 10 metrics" in r.json()["error"]["message"]
    r = _post(sandbox, {**base, "limit": "250001"})
    assert r.status_code == 400
    r = _post(sandbox, {"dateRanges": [{"startDate": "2030-01-01", "endDate": "2030-01-02"}],
                        "dimensions": [{"name": "date"}], "metrics": [{"name": "sessions"}]})
    assert r.status_code == 200 and "rows" not in r.json() and "rowCount" not in r.json()
    r = _post(sandbox, base, token="nope")
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_quota_exhaustion_message(sandbox):
    requests.post(f"{sandbox.url}/_sandbox/ga4/quota", json={"tokensPerProjectPerHour": 0}, timeout=10)
    r = _post(sandbox, {"dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-02"}],
                        "metrics": [{"name": "sessions"}]})
    assert r.status_code == 429 and r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert r.json()["error"]["message"].startswith("Exhausted property tokens for a project per hour.")


def test_tokens_grow_with_span_and_rows(sandbox):
    st = sandbox.state
    def cost(body):
        return sandbox.call(st.reports.run_report, SHOP, body)[1]
    one = cost({"dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-01"}], "metrics": [{"name": "sessions"}]})
    year = cost({"dateRanges": [{"startDate": "2025-11-01", "endDate": "2026-10-31"}], "metrics": [{"name": "sessions"}]})
    many = cost({"dateRanges": [{"startDate": "2025-11-01", "endDate": "2026-10-31"}],
                 "dimensions": [{"name": "date"}, {"name": "landingPage"}], "metrics": [{"name": "sessions"}],
                 "limit": 250000})
    assert one == 8 and year > one and many > year


def test_key_endpoint_and_restate(sandbox):
    key = requests.get(f"{sandbox.url}/_sandbox/ga4/service-account-key", timeout=10).json()
    assert key["type"] == "service_account" and key["token_uri"] == f"{sandbox.url}/ga4/token"
    assert "BEGIN PRIVATE KEY" in key["private_key"]
    r = requests.post(f"{sandbox.url}/_sandbox/ga4/restate", json={}, timeout=10).json()
    assert r["revision"] == 1 and r["completeness"]["2026-11-24"] == 0.9


def test_a_custom_metric_unit_change_shows_in_metadata_and_reports(sandbox):
    hook = f"{sandbox.url}/_sandbox/ga4/metric-type"
    token = requests.post(f"{sandbox.url}/_sandbox/ga4/token", timeout=10).json()["access_token"]

    def metadata_type() -> str:
        md = requests.get(f"{sandbox.api_url}/v1beta/properties/{SHOP}/metadata",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        return next(m["type"] for m in md["metrics"] if m["apiName"] == "customEvent:coupon_value")

    assert metadata_type() == "TYPE_CURRENCY"
    r = requests.post(hook, json={"metric": "customEvent:coupon_value", "type": "TYPE_STANDARD"}, timeout=10)
    assert r.status_code == 200 and metadata_type() == "TYPE_STANDARD"
    body = {"dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-24"}],
            "metrics": [{"name": "customEvent:coupon_value"}]}
    assert _post(sandbox, body, token).json()["metricHeaders"][0]["type"] == "TYPE_STANDARD"
    # only what GA4 allows: built-in metrics keep their type, custom ones are never integers
    for refused in ({"metric": "sessions", "type": "TYPE_FLOAT"},
                    {"metric": "customEvent:coupon_value", "type": "TYPE_INTEGER"}):
        r = requests.post(hook, json=refused, timeout=10)
        assert r.status_code == 400, refused
