"""Cost-based pacing, THROTTLED / 429 / 5xx / dropped connections, against the simulator."""
from __future__ import annotations

import datetime as dt

from tap_shopify import client
from tests.runner import run_tap
from tributary_sandbox.vendors.shopify import control


def _recent(days: int) -> str:
    return (dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc) - dt.timedelta(days=days)).isoformat()


def test_paces_to_the_restore_rate_without_being_throttled(sandbox):
    sandbox.call(sandbox.state.throttle.set, 1000, 2000)
    taps = []
    out = run_tap(sandbox.config(start_date=_recent(120)), only={"orders"}, tap_out=taps)
    assert out.records("orders")
    stats = taps[0].client.stats
    assert sandbox.state.requests["throttled"] == 0, "pacing should keep us out of THROTTLED"
    assert stats.waited > 0, "with a 1,000-point bucket the tap has to wait between ~900-point pages"
    assert stats.requests >= 3


def test_throttled_answers_are_waited_out_and_retried(sandbox, monkeypatch):
    slept = []
    monkeypatch.setattr(client, "sleep", lambda s: slept.append(s))
    full = run_tap(sandbox.config(), only={"customers"})
    sandbox.faults({"vendor": "shopify", "kind": "throttled", "count": 2})
    taps = []
    out = run_tap(sandbox.config(), only={"customers"}, tap_out=taps)
    assert out.records("customers") == full.records("customers")
    assert [r["status"] for r in taps[0].client.stats.retries] == ["THROTTLED", "THROTTLED"]


def test_429_honours_retry_after(sandbox, monkeypatch):
    slept = []
    monkeypatch.setattr(client, "sleep", lambda s: slept.append(s))
    sandbox.faults({"vendor": "shopify", "kind": "status", "status": 429, "retry_after": 3})
    out = run_tap(sandbox.config(), only={"locations"})
    assert len(out.records("locations")) == 2
    assert 3.0 in slept


def test_5xx_and_dropped_connections_are_retried(sandbox, monkeypatch):
    monkeypatch.setattr(client, "sleep", lambda s: None)
    sandbox.faults({"vendor": "shopify", "kind": "status", "status": 503, "count": 2},
                    {"vendor": "shopify", "kind": "drop"})
    taps = []
    out = run_tap(sandbox.config(), only={"products"}, tap_out=taps)
    assert len(out.records("products")) == sandbox.call(control.counts, sandbox.state)["products"]
    statuses = [r["status"] for r in taps[0].client.stats.retries]
    assert statuses.count(503) == 2 and "ConnectionError" in statuses
