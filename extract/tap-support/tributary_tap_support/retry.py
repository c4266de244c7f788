"""How long a tap waits before asking an API again, and the one line it logs when it does.

One policy for every tap: a Retry-After the API sends is obeyed (seconds or an HTTP date: it is
a floor, never shortened), otherwise waits grow 1, 2, 4 … s up to a cap. Used by the SDK streams
(tributary_tap_support.streams) and by tap-shopify's own request loop. No singer_sdk here.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import time


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """The seconds a Retry-After header asks for: delay-seconds ("3", "2.0") or an HTTP date
    (RFC 9110; Attio sends dates). None when there is no header or it cannot be read."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


class RetryWaits:
    """The waits before the retries of one request: what Retry-After says when the answer has
    one, else base, 2 × base, 4 × base … seconds, never more than `cap`."""

    def __init__(self, base: float = 1.0, cap: float = 60.0) -> None:
        self.base = base
        self.cap = cap
        self.retries = 0

    def next(self, retry_after: str | None = None) -> float:
        wait = retry_after_seconds(retry_after)
        if wait is None:
            wait = min(self.cap, self.base * 2 ** self.retries)
        self.retries += 1
        return wait


def jitter_up(seconds: float) -> float:
    """`seconds` plus up to a tenth more (at most 0.25 s), so parallel runs spread out. Only ever
    added: a Retry-After is a floor."""
    return seconds + min(0.25, seconds * 0.1) * (time.perf_counter_ns() % 1000) / 1000


def retry_line(vendor: str, status: object, what: str, tries: int, wait: float,
               retry_after: str | None = None) -> str:
    """`Attio 429 on /objects (try 2): waiting 2.00 s (Retry-After: …)`: one line per retry."""
    said = f" (Retry-After: {retry_after})" if retry_after else ""
    return f"{vendor} {status} on {what} (try {tries}): waiting {wait:.2f} s{said}"
