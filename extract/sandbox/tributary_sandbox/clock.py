"""The sandbox clock: real time plus an offset that tests move forward.

Vendor logic that depends on elapsed time (token expiry and rotation, "changedSince" limits,
"now" stamps on mutated records) reads this clock, never the wall clock directly, so a test can
live through 30 days of token rotation in a second (`POST /_sandbox/clock {"advance_days": n}`).
Rate limiting deliberately uses real time (it protects against real bursts).
The offset starts at whole days when TRIBUTARY_SANDBOX_TODAY pretends another date (anchor.py).
"""
from __future__ import annotations

import datetime as dt

from . import anchor


class Clock:
    def __init__(self) -> None:
        self.base = anchor.clock_offset()  # 0 unless TRIBUTARY_SANDBOX_TODAY pretends another date
        self.offset = self.base

    def now(self) -> dt.datetime:
        return (dt.datetime.now(dt.timezone.utc) + self.offset).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)

    def reset(self) -> None:
        self.offset = self.base
