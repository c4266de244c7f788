"""Client-credentials tokens (exchange, renewal, expiry) and bad configuration."""
from __future__ import annotations

import time

from tests.runner import cli, run_tap
from tributary_sandbox.vendors.shopify import auth


def _cc(sandbox, **extra):
    cfg = sandbox.config(**extra)
    del cfg["access_token"]
    return {**cfg, "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET}


def test_client_credentials_exchange(sandbox):
    taps = []
    out = run_tap(_cc(sandbox), only={"locations"}, tap_out=taps)
    assert len(out.records("locations")) == 2
    assert taps[0].client.stats.token_exchanges == 1
    assert sandbox.state.requests["token"] == 1


def test_token_is_renewed_before_it_expires(sandbox):
    taps = []
    run_tap(_cc(sandbox), only={"locations"}, tap_out=taps)
    c = taps[0].client
    c._token_expires = time.monotonic() + 60          # inside the 5-minute renewal margin
    c.execute("query { locations(first: 1) { nodes { id } } }")
    assert c.stats.token_exchanges == 2


def test_expired_token_gets_a_new_exchange(sandbox):
    taps = []
    run_tap(_cc(sandbox), only={"locations"}, tap_out=taps)
    c = taps[0].client
    sandbox.call(sandbox.state.clock.advance, 86400 + 5)   # the sandbox clock moves a day on
    data = c.execute("query { locations(first: 1) { nodes { id } } }")
    assert data["locations"]["nodes"]
    assert c.stats.token_exchanges == 2


def test_wrong_token_is_one_clear_line(sandbox, tmp_path):
    done = cli(["--discover"], sandbox.config(), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    cat = tmp_path / "catalog.json"
    cat.write_text(done.stdout)
    done = cli(["--catalog", str(cat)], sandbox.config(access_token="shpat_wrong"), tmp_path)
    assert done.returncode == 1
    assert "TAP_SHOPIFY_ACCESS_TOKEN" in done.stderr and "Invalid API key" in done.stderr
    assert "Traceback" not in done.stderr


def test_wrong_client_secret_names_the_settings(sandbox, tmp_path):
    cfg = {**_cc(sandbox), "client_secret": "nope"}
    done = cli([], cfg, tmp_path)
    assert done.returncode == 1
    assert "TAP_SHOPIFY_CLIENT_SECRET" in done.stderr and "Traceback" not in done.stderr


def test_missing_credentials_and_shop(tmp_path):
    done = cli([], {"api_url": "http://127.0.0.1:9"}, tmp_path)
    assert done.returncode == 1
    assert "TAP_SHOPIFY_ACCESS_TOKEN" in done.stderr and "TAP_SHOPIFY_SHOP" in done.stderr
    assert "Traceback" not in done.stderr
