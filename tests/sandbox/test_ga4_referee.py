"""Google's own client as the referee of the GA4 simulator: `google-analytics-data` over its REST
transport, logged in the ways Google's libraries log in (a service account's self-signed JWT, the
client's default; the same key through the token exchange, as tap-ga4 does; an OAuth refresh
token), asking for what tap-ga4 asks and what a developer asks first.

An answer passes when the client accepts it and Google's protobuf definitions parse it strictly:
the client ignores fields it does not know, so a strict parse is what shows a field the real API
never sends.
"""
from __future__ import annotations

import json

import pytest

from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta import types as ga
from google.api_core import exceptions
from google.auth.transport.requests import Request
from google.oauth2 import credentials as oauth_credentials
from google.oauth2 import service_account
from google.protobuf import json_format

from tributary_sandbox.vendors.ga4 import auth as ga4_auth

PROPERTY = "properties/412345678"
SCOPES = ["https://www.googleapis.com/auth/analytics.readonly"]


class Referee:
    """The client over REST, each answer's raw body kept for a strict parse."""

    def __init__(self, sim, credentials, hooks: str = "") -> None:
        """`hooks`: where the business is served ("/instances/<name>" for another one)."""
        self.client = BetaAnalyticsDataClient(credentials=credentials, transport="rest",
                                              client_options={"api_endpoint": f"{sim.control}{hooks}/ga4"})
        self.bodies: list = []
        # the REST transport's session is a requests.Session: its response hook sees every answer
        self.client._transport._session.hooks["response"].append(lambda response, **_: self.bodies.append(response))

    def __call__(self, method: str, request, answer_type):
        answer = getattr(self.client, method)(request)
        strict = answer_type.pb(answer_type())
        json_format.Parse(self.bodies[-1].text, strict, ignore_unknown_fields=False)   # raises on a field Google never sends
        return answer


def key_file(sim) -> dict:
    return sim.ctl("GET", "/_sandbox/ga4/service-account-key")


@pytest.fixture
def referee(sim) -> Referee:
    """The client as a developer first writes it: a service account key, nothing else."""
    return Referee(sim, service_account.Credentials.from_service_account_info(key_file(sim), scopes=SCOPES))


def report(**fields) -> ga.RunReportRequest:
    return ga.RunReportRequest(property=PROPERTY, **fields)


def test_the_reports_tap_ga4_runs(sim, referee):
    metadata = referee("get_metadata", ga.GetMetadataRequest(name=f"{PROPERTY}/metadata"), ga.Metadata)
    custom = {d.api_name for d in metadata.dimensions if d.custom_definition}
    assert "customEvent:content_group" in custom
    answer = referee("run_report", report(
        dimensions=[ga.Dimension(name="date"), ga.Dimension(name="sessionDefaultChannelGroup")],
        metrics=[ga.Metric(name="sessions"), ga.Metric(name="totalRevenue"), ga.Metric(name="engagementRate")],
        date_ranges=[ga.DateRange(start_date="30daysAgo", end_date="yesterday")],
        limit=20, offset=0, keep_empty_rows=True, return_property_quota=True), ga.RunReportResponse)
    assert answer.row_count > 20 and len(answer.rows) == 20
    assert [h.type_ for h in answer.metric_headers] == [ga.MetricType.TYPE_INTEGER, ga.MetricType.TYPE_CURRENCY,
                                                         ga.MetricType.TYPE_FLOAT]
    assert answer.property_quota.tokens_per_day.remaining > 0
    assert answer.metadata.currency_code == "USD" and answer.metadata.time_zone
    second_page = referee("run_report", report(
        dimensions=[ga.Dimension(name="date"), ga.Dimension(name="sessionDefaultChannelGroup")],
        metrics=[ga.Metric(name="sessions")], date_ranges=[ga.DateRange(start_date="30daysAgo", end_date="yesterday")],
        limit=20, offset=20), ga.RunReportResponse)
    assert second_page.rows and second_page.row_count == answer.row_count


def test_filters_and_orders_a_developer_writes_first(referee):
    answer = referee("run_report", report(
        dimensions=[ga.Dimension(name="country")], metrics=[ga.Metric(name="activeUsers")],
        date_ranges=[ga.DateRange(start_date="28daysAgo", end_date="today")],
        dimension_filter=ga.FilterExpression(filter=ga.Filter(
            field_name="country", in_list_filter=ga.Filter.InListFilter(values=["United States", "Canada"]))),
        order_bys=[ga.OrderBy(metric=ga.OrderBy.MetricOrderBy(metric_name="activeUsers"), desc=True)]),
        ga.RunReportResponse)
    countries = [row.dimension_values[0].value for row in answer.rows]
    users = [int(row.metric_values[0].value) for row in answer.rows]
    assert set(countries) <= {"United States", "Canada"} and countries and users == sorted(users, reverse=True)


def test_a_batch_of_reports(referee):
    days = [ga.DateRange(start_date="7daysAgo", end_date="yesterday")]
    single = referee("run_report", report(dimensions=[ga.Dimension(name="deviceCategory")],
                                          metrics=[ga.Metric(name="sessions")], date_ranges=days), ga.RunReportResponse)
    batch = referee("batch_run_reports", ga.BatchRunReportsRequest(property=PROPERTY, requests=[
        ga.RunReportRequest(dimensions=[ga.Dimension(name="deviceCategory")], metrics=[ga.Metric(name="sessions")],
                            date_ranges=days),
        ga.RunReportRequest(dimensions=[ga.Dimension(name="country")], metrics=[ga.Metric(name="totalUsers")],
                            date_ranges=days)]), ga.BatchRunReportsResponse)
    assert len(batch.reports) == 2 and batch.reports[0].rows == single.rows
    with pytest.raises(exceptions.BadRequest):
        referee.client.batch_run_reports(ga.BatchRunReportsRequest(property=PROPERTY, requests=[
            ga.RunReportRequest(metrics=[ga.Metric(name="sessions")], date_ranges=days)] * 6))


def test_which_fields_go_together(referee):
    """checkCompatibility: item-scoped fields do not go with session metrics, and the answer says so
    for every dimension and metric of the property."""
    answer = referee("check_compatibility", ga.CheckCompatibilityRequest(
        property=PROPERTY, dimensions=[ga.Dimension(name="date")], metrics=[ga.Metric(name="sessions")]),
        ga.CheckCompatibilityResponse)
    verdicts = {d.dimension_metadata.api_name: d.compatibility for d in answer.dimension_compatibilities}
    assert verdicts["sessionSource"] == ga.Compatibility.COMPATIBLE
    assert verdicts["itemName"] == ga.Compatibility.INCOMPATIBLE
    only = referee("check_compatibility", ga.CheckCompatibilityRequest(
        property=PROPERTY, dimensions=[ga.Dimension(name="itemName")],
        compatibility_filter=ga.Compatibility.INCOMPATIBLE), ga.CheckCompatibilityResponse)
    assert "sessions" in {m.metric_metadata.api_name for m in only.metric_compatibilities}
    assert all(m.compatibility == ga.Compatibility.INCOMPATIBLE for m in only.metric_compatibilities)


def test_errors_are_googles(sim, referee):
    with pytest.raises(exceptions.BadRequest) as refused:
        referee.client.run_report(report(dimensions=[ga.Dimension(name="nope")], metrics=[ga.Metric(name="sessions")],
                                         date_ranges=[ga.DateRange(start_date="7daysAgo", end_date="today")]))
    assert "nope" in refused.value.message
    body = refused.value.response.json()["error"]
    assert (body["code"], body["status"]) == (400, "INVALID_ARGUMENT")
    stranger = service_account.Credentials.from_service_account_info(
        {**key_file(sim), "client_email": "someone@else.iam.gserviceaccount.com"}, scopes=SCOPES)
    with pytest.raises(exceptions.Unauthorized):
        Referee(sim, stranger).client.get_metadata(ga.GetMetadataRequest(name=f"{PROPERTY}/metadata"))


@pytest.mark.parametrize("login", ["token exchange", "oauth refresh token"])
def test_every_login_tap_ga4_offers(sim, login):
    if login == "token exchange":   # what tap-ga4 does with a key: Google's jwt-bearer grant at the token_uri
        credentials = service_account.Credentials.from_service_account_info(key_file(sim), scopes=SCOPES)
        credentials._always_use_jwt_access = False
    else:
        credentials = oauth_credentials.Credentials(
            None, refresh_token=ga4_auth.OAUTH_REFRESH_TOKEN, client_id=ga4_auth.OAUTH_CLIENT_ID,
            client_secret=ga4_auth.OAUTH_CLIENT_SECRET, token_uri=f"{sim.control}{ga4_auth.TOKEN_PATH}")
    credentials.refresh(Request())
    assert credentials.token.startswith("ya29.")
    answer = Referee(sim, credentials)("get_metadata", ga.GetMetadataRequest(name=f"{PROPERTY}/metadata"), ga.Metadata)
    assert answer.dimensions


def test_the_strict_parse_can_fail():
    with pytest.raises(json_format.ParseError):
        json_format.Parse(json.dumps({"rowCount": 1, "kind": "analyticsData#runReport", "extra": 1}),
                          ga.RunReportResponse.pb(ga.RunReportResponse()), ignore_unknown_fields=False)
