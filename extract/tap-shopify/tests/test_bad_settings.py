"""Bad settings named in one line: an API URL nothing answers at, numbers and lists given as text.

The shared logic behind them is tested in extract/tap-support; here, this tap's own settings and messages."""
from __future__ import annotations

from tap_shopify.tap import TapShopify
from tributary_tap_support.settings import typed_settings
from tributary_tap_support.testing import assert_failed_naming, assert_fails_fast_naming, closed_port
from tests.runner import cli


def test_an_api_url_nothing_listens_at_fails_fast_naming_the_setting(sandbox, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/shopify"
    assert_fails_fast_naming(lambda: cli([], sandbox.config(api_url=url), tmp_path),  # a sync: discovery needs no API
                             f"cannot reach the Shopify Admin API at {url} (connection refused): check TAP_SHOPIFY_API_URL")


def test_numbers_and_lists_given_as_text_are_converted_or_named():
    schema = TapShopify.config_jsonschema
    config = {"page_size": "100", "bulk_threshold": "5000", "bulk_poll_interval": "0.5"}
    assert typed_settings(config, schema, "tap-shopify") == []
    assert config == {"page_size": 100, "bulk_threshold": 5000, "bulk_poll_interval": 0.5}
    assert typed_settings({"page_size": "lots"}, schema, "tap-shopify") == [
        "TAP_SHOPIFY_PAGE_SIZE='lots' is not a whole number: set it to e.g. 250 (meltano config tap-shopify set page_size 250)"]


def test_a_page_size_that_is_not_a_number_names_the_setting(sandbox, tmp_path):
    done = cli([], sandbox.config(page_size="lots"), tmp_path)
    assert_failed_naming(done, "TAP_SHOPIFY_PAGE_SIZE='lots' is not a whole number")
