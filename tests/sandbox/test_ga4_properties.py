"""Several GA4 properties of several businesses, refereed by Google's own client
(test_ga4_referee.py's Referee, `google-analytics-data` over REST): another business's properties
have ids of their own and a service account of their own; each account's key reads its own
properties and is refused on the other's as Google refuses a property the account has no access to.
"""
from __future__ import annotations

import pytest
from google.analytics.data_v1beta import types as ga
from google.api_core import exceptions
from google.oauth2 import credentials as oauth_credentials
from google.oauth2 import service_account

from test_ga4_referee import SCOPES, Referee
from tributary_sandbox.vendors import ga4 as simulator

FIRST = next(iter(simulator.PROPERTIES))
SECOND = next(iter(simulator.instance_options("second")["properties"]))


def client(sim, hooks: str) -> Referee:
    """The client as a developer writes it, with the business's own key file (its token_uri
    names where that business is served)."""
    key = sim.ctl("GET", f"{hooks}/_sandbox/ga4/service-account-key")
    return Referee(sim, service_account.Credentials.from_service_account_info(key, scopes=SCOPES), hooks)


def sessions_by_day(referee: Referee, property_id: str) -> dict[str, int]:
    answer = referee("run_report", ga.RunReportRequest(
        property=f"properties/{property_id}", dimensions=[ga.Dimension(name="date")],
        metrics=[ga.Metric(name="sessions")], date_ranges=[ga.DateRange(start_date="14daysAgo", end_date="4daysAgo")]),
        ga.RunReportResponse)
    return {row.dimension_values[0].value: int(row.metric_values[0].value) for row in answer.rows}


@pytest.fixture
def businesses(two_businesses):
    two_businesses.ctl("POST", "/_sandbox/reset", {"scale": 0.3})
    return client(two_businesses, ""), client(two_businesses, "/instances/second")


def test_each_business_reads_its_own_properties(businesses):
    first, second = businesses
    assert SECOND != FIRST
    first_days, second_days = sessions_by_day(first, FIRST), sessions_by_day(second, SECOND)
    assert set(first_days) == set(second_days) and first_days != second_days   # the same days, other traffic


def test_a_key_reads_no_other_business_property(businesses):
    first, second = businesses
    for referee, other in ((first, SECOND), (second, FIRST)):
        with pytest.raises(exceptions.Forbidden, match="sufficient permissions for this property"):
            sessions_by_day(referee, other)


def test_another_business_access_token_is_refused_as_google_refuses_it(two_businesses):
    """Google has one token service: the first business's access token is a valid credential at
    the second's address too, without access to its property (403, not 401)."""
    token = two_businesses.ctl("POST", "/_sandbox/ga4/token", {})["access_token"]
    referee = Referee(two_businesses, oauth_credentials.Credentials(token=token), "/instances/second")
    with pytest.raises(exceptions.Forbidden, match="sufficient permissions for this property"):
        sessions_by_day(referee, SECOND)

