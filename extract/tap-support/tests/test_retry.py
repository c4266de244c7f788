"""Retry waits: Retry-After obeyed (seconds or an HTTP date), else exponential; jitter only adds."""
from __future__ import annotations

import datetime as dt

from tributary_tap_support.retry import RetryWaits, jitter_up, retry_after_seconds, retry_line


def test_retry_after_is_seconds_or_an_http_date():
    now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert retry_after_seconds("Wed, 25 Nov 2026 12:00:07 GMT", now) == 7.0
    assert retry_after_seconds("Wed, 25 Nov 2026 11:59:00 GMT", now) == 0.0   # already past
    assert retry_after_seconds("3", now) == 3.0
    assert retry_after_seconds(" 2.0 ", now) == 2.0                          # Shopify's form
    assert retry_after_seconds("-5", now) == 0.0
    assert retry_after_seconds("not a date", now) is None
    assert retry_after_seconds(None, now) is None and retry_after_seconds("", now) is None


def test_waits_follow_retry_after_else_double_up_to_the_cap():
    waits = RetryWaits(base=1.0, cap=5.0)
    assert [waits.next(), waits.next(), waits.next("30"), waits.next(), waits.next("soon")] == [1.0, 2.0, 30.0, 5.0, 5.0]
    assert RetryWaits(base=0.01).next() == 0.01


def test_jitter_only_ever_adds_and_at_most_a_quarter_second():
    for seconds in (0.0, 0.5, 1.0, 30.0, 600.0):
        for _ in range(50):
            jittered = jitter_up(seconds)
            assert seconds <= jittered <= seconds + min(0.25, seconds * 0.1)


def test_one_line_per_retry():
    assert retry_line("Attio", 429, "/objects", 2, 2.0, "Wed, 25 Nov 2026 12:00:07 GMT") == \
        "Attio 429 on /objects (try 2): waiting 2.00 s (Retry-After: Wed, 25 Nov 2026 12:00:07 GMT)"
    assert retry_line("GA4", "ConnectionError", "report 'events'", 1, 1.04) == \
        "GA4 ConnectionError on report 'events' (try 1): waiting 1.04 s"
