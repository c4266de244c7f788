"""Days of QuickBooks refresh-token rotation, with no manual step: a week in `make test`, thirty
days in `make test-slow` (the same run each day, minutes in all).

Intuit replaces a refresh token that is more than a day old on use, and the old one then fails
with invalid_grant. The sandbox ages its tokens a day between runs (its data clock stays put, so
the rest of the API behaves as on any day)."""

from __future__ import annotations

import json

import pytest

PIPELINE = ("run", "tap-quickbooks", "target-postgres")
SCALE = 0.05  # a small company's books: each day's run is about its token, not its rows


def token_requests(stack, since: int) -> int:
    log = stack.sandbox("GET", f"/_sandbox/requests?since={since}")
    return sum(1 for entry in log if entry["path"] == "/oauth2/v1/tokens/bearer")


@pytest.mark.parametrize("days", [pytest.param(7, id="a-week"),
                                  pytest.param(30, id="thirty-days", marks=pytest.mark.slow)])
def test_days_of_rotation(stack, days):
    stack.reset(scale=SCALE)
    store = stack.env_path("TAP_QUICKBOOKS_TOKEN_STORE_PATH")
    seen_tokens = set()
    for day in range(1, days + 1):
        stack.sandbox("POST", "/_sandbox/quickbooks/tokens/age", {"days": 1})
        result = stack.meltano(*PIPELINE)
        assert result.ok, f"day {day}:\n{result.output[-3000:]}"
        current = stack.sandbox("GET", "/_sandbox/quickbooks/tokens")["refresh_token"]
        assert json.loads(store.read_text())["refresh_token"] == current, f"day {day}: store is behind"
        seen_tokens.add(current)
    assert len(seen_tokens) == days, "every day's run must have been handed a new token"


def test_without_the_token_store_the_second_day_fails(stack):
    """The control: what the wrapper prevents really happens."""
    stack.reset(scale=SCALE)
    store = stack.env_path("TAP_QUICKBOOKS_TOKEN_STORE_PATH")
    stack.sandbox("POST", "/_sandbox/quickbooks/tokens/age", {"days": 1})
    assert stack.meltano(*PIPELINE).ok
    store.unlink()  # as if the rotated token had been lost with Meltano's temporary config
    stack.sandbox("POST", "/_sandbox/quickbooks/tokens/age", {"days": 1})
    result = stack.meltano(*PIPELINE)
    assert not result.ok
    assert "refused the refresh token" in result.output
