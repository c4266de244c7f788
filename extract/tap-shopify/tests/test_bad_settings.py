"""Bad settings named in one line: an API URL nothing answers at, numbers and lists given as text.

The shared logic behind them is tested in extract/tap-support; here, this tap's own settings and messages."""
from __future__ import annotations

import socket
import time

from tap_shopify.tap import TapShopify
from tributary_tap_support.settings import typed_settings
from tests.runner import cli


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_api_url_nothing_listens_at_fails_fast_naming_the_setting(sandbox, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/shopify"
    started = time.monotonic()
    done = cli([], sandbox.config(api_url=url), tmp_path)  # a sync: discovery needs no API
    elapsed = time.monotonic() - started
    assert done.returncode != 0
    assert f"cannot reach the Shopify Admin API at {url} (connection refused): check TAP_SHOPIFY_API_URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 10, f"took {elapsed:.1f} s: a wrong URL must not be retried for minutes"


def test_numbers_and_lists_given_as_text_are_converted_or_named():
    schema = TapShopify.config_jsonschema
    config = {"page_size": "100", "bulk_threshold": "5000", "bulk_poll_interval": "0.5"}
    assert typed_settings(config, schema, "tap-shopify") == []
    assert config == {"page_size": 100, "bulk_threshold": 5000, "bulk_poll_interval": 0.5}
    assert typed_settings({"page_size": "lots"}, schema, "tap-shopify") == [
        "TAP_SHOPIFY_PAGE_SIZE='lots' is not a whole number: set it to e.g. 250 (meltano config tap-shopify set page_size 250)"]


def test_a_page_size_that_is_not_a_number_names_the_setting(sandbox, tmp_path):
    done = cli([], sandbox.config(page_size="lots"), tmp_path)
    assert done.returncode != 0
    assert "TAP_SHOPIFY_PAGE_SIZE='lots' is not a whole number" in done.stderr
    assert "Traceback" not in done.stderr
