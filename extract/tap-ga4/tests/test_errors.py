"""Auth, bad reports, retries: the tap against the simulator over real HTTP."""
from __future__ import annotations

import json

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tap_ga4 import client
from tap_ga4.auth import GA4AuthError, GA4ConfigError
from tap_ga4.tap import TapGA4
from tests.runner import cli, run_tap
from tests.sandbox import SHOP


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(client.GA4Stream, "backoff_base_seconds", 0.01)
    monkeypatch.setattr(client, "sleep", lambda s: None)


def test_bad_dimension_names_report_and_field(sandbox, tmp_path):
    reports = [{"name": "pages", "dimensions": ["landingPagez"], "metrics": ["sessions"]}]
    done = cli(["--discover"], sandbox.config(reports=reports), tmp_path)
    assert done.returncode == 1
    assert "report 'pages': dimension 'landingPagez' does not exist for property 412345678" in done.stderr
    assert "did you mean landingPage" in done.stderr
    assert "Traceback" not in done.stderr


def test_metric_given_as_dimension_says_so(sandbox):
    reports = [{"name": "x", "dimensions": ["sessions"], "metrics": ["totalUsers"]}]
    with pytest.raises(GA4ConfigError, match="it is a metric"):
        TapGA4(config=sandbox.config(reports=reports)).discover_streams()


def test_custom_definition_checked_against_metadata(sandbox):
    ok = [{"name": "x", "dimensions": ["customUser:customer_type"], "metrics": ["customEvent:coupon_value"]}]
    assert [s.name for s in TapGA4(config=sandbox.config(reports=ok)).discover_streams()] == ["x"]
    bad = [{"name": "x", "dimensions": ["customEvent:nope"], "metrics": ["sessions"]}]
    with pytest.raises(GA4ConfigError, match="customEvent:nope"):
        TapGA4(config=sandbox.config(reports=bad)).discover_streams()


def test_too_many_metrics_and_dimensions(sandbox, tmp_path):
    mets = ["sessions", "totalUsers", "newUsers", "activeUsers", "screenPageViews", "engagedSessions",
            "keyEvents", "eventCount", "totalRevenue", "purchaseRevenue", "transactions"]
    done = cli(["--discover"], sandbox.config(reports=[{"name": "wide", "metrics": mets}]), tmp_path)
    assert done.returncode == 1
    assert "report 'wide' has 11 metrics" in done.stderr and "at most 10" in done.stderr
    assert "Traceback" not in done.stderr
    dims = ["sessionSource", "sessionMedium", "sessionCampaignName", "sessionDefaultChannelGroup", "landingPage",
            "deviceCategory", "country", "browser", "city"]   # + date = 10
    with pytest.raises(GA4ConfigError, match="report 'deep' has 10 dimensions"):
        TapGA4(config=sandbox.config(reports=[{"name": "deep", "dimensions": dims, "metrics": ["sessions"]}])
               ).discover_streams()


def test_incompatible_report_fails_with_googles_reason(sandbox):
    reports = [{"name": "mixed", "dimensions": ["eventName", "itemName"], "metrics": ["eventCount"]}]
    out = run_tap(sandbox.config(reports=reports), raise_errors=False)
    assert isinstance(out.error, GA4ConfigError)
    assert "report 'mixed'" in str(out.error) and "incompatible" in str(out.error)


def test_service_account_jwt_is_verified(sandbox):
    out = run_tap(sandbox.config(), only={"daily_overview"})
    assert len(out.records("daily_overview")) == 30
    assert sandbox.state.requests["token"] == 2   # one per tap object: run_tap builds one to discover, one to sync
    vias = {t["via"] for t in sandbox.state.auth.tokens.values()}
    assert vias == {"service_account"}


def test_key_signed_by_another_private_key_is_refused(sandbox, tmp_path):
    key = sandbox.key()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))                      # a file path this time
    done = cli(["--discover"], sandbox.config(service_account_key=str(path)), tmp_path)
    assert done.returncode == 1
    assert "Invalid JWT Signature" in done.stderr and "service_account_key" in done.stderr
    assert "Traceback" not in done.stderr


def test_oauth_refresh_token(sandbox):
    out = run_tap(sandbox.config(auth="oauth"), only={"events"})
    assert out.records("events")
    assert {t["via"] for t in sandbox.state.auth.tokens.values()} == {"refresh_token"}
    with pytest.raises(GA4AuthError, match="oauth_refresh_token"):
        TapGA4(config=sandbox.config(auth="oauth", oauth_refresh_token="revoked")).discover_streams()


def test_access_token_and_its_expiry(sandbox):
    token = requests.post(f"{sandbox.url}/_sandbox/ga4/token", timeout=10).json()["access_token"]
    config = sandbox.config(auth="access_token", access_token=token)
    assert run_tap(config, only={"daily_overview"}).records("daily_overview")
    requests.post(f"{sandbox.url}/_sandbox/ga4/tokens/expire", timeout=10)   # an hour later
    with pytest.raises(GA4AuthError, match="access_token"):
        TapGA4(config=config).discover_streams()


def test_expired_token_mid_run_is_refreshed(sandbox):
    tap_out = []
    config = sandbox.config(window_days=5)
    TapGA4(config=config).discover_streams()
    requests.post(f"{sandbox.url}/_sandbox/ga4/tokens/expire", timeout=10)
    out = run_tap(config, only={"daily_overview"}, tap_out=tap_out)
    assert len(out.records("daily_overview")) == 30


def test_exactly_one_auth_method(sandbox, tmp_path):
    config = sandbox.config(auth="oauth")
    config["service_account_key"] = "{}"
    done = cli(["--discover"], config, tmp_path)
    assert done.returncode != 0 and "exactly one way to authenticate" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_property_is_permission_denied(sandbox, tmp_path):
    done = cli(["--discover"], sandbox.config(property_ids=["999999"]), tmp_path)
    assert done.returncode == 1 and "PERMISSION_DENIED" in done.stderr and "Viewer access" in done.stderr


def test_5xx_and_concurrency_429_are_retried(sandbox):
    tap_out = []
    config = sandbox.config()
    catalog = TapGA4(config=config).catalog_dict   # faults below hit the sync, not discovery
    report = {"vendor": "ga4", "path_contains": ":runReport", "kind": "status"}
    sandbox.faults({**report, "status": 500, "count": 2}, {**report, "status": 503},
                   {**report, "status": 429, "count": 2})   # in this order: the first rule that matches fires
    out = run_tap(config, only={"daily_overview"}, tap_out=tap_out, catalog=catalog)
    assert len(out.records("daily_overview")) == 30
    statuses = [b["status"] for b in tap_out[0].backoff_log]
    assert statuses.count(500) == 2 and statuses.count(503) == 1 and statuses.count(429) == 2


def test_dropped_connection_is_retried(sandbox):
    tap_out = []
    config = sandbox.config()
    catalog = TapGA4(config=config).catalog_dict
    sandbox.faults({"vendor": "ga4", "path_contains": ":runReport", "kind": "drop"})
    out = run_tap(config, only={"daily_overview"}, tap_out=tap_out, catalog=catalog)
    assert len(out.records("daily_overview")) == 30
    assert tap_out[0].backoff_log[0]["status"] == "ConnectionError"


def test_metadata_5xx_is_retried(sandbox):
    sandbox.faults({"vendor": "ga4", "path_contains": "/metadata", "kind": "status", "status": 500, "count": 2})
    assert len(TapGA4(config=sandbox.config()).discover_streams()) == 6
