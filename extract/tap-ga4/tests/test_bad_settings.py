"""Bad settings named in one line: an API URL nothing answers at, numbers and lists given as text.

The shared logic behind them is tested in extract/tap-support; here, this tap's own settings and messages."""
from __future__ import annotations

from tap_ga4.tap import TapGA4
from tributary_tap_support.settings import typed_settings
from tributary_tap_support.testing import assert_failed_naming, assert_fails_fast_naming, closed_port
from tests.runner import cli


def test_an_api_url_nothing_listens_at_fails_fast_naming_the_setting(sandbox, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/ga4"
    assert_fails_fast_naming(lambda: cli(["--discover"], sandbox.config(api_url=url), tmp_path),
                             f"cannot reach the GA4 Data API at {url} (connection refused): check TAP_GA4_API_URL")


def test_numbers_and_lists_given_as_text_are_converted_or_named():
    schema = TapGA4.config_jsonschema
    config = {"window_days": "30", "request_timeout": "60", "property_ids": "412345678"}
    assert typed_settings(config, schema, "tap-ga4") == []
    # a bare id is the list of that one id; JSON lists (of strings or numbers) and commas work too
    assert config == {"window_days": 30, "request_timeout": 60, "property_ids": ["412345678"]}
    for text in ('["412345678", "998877"]', "[412345678, 998877]", "412345678, 998877"):
        config = {"property_ids": text}
        assert typed_settings(config, schema, "tap-ga4") == [] and config["property_ids"] == ["412345678", "998877"]
    assert typed_settings({"lookback_days": "three"}, schema, "tap-ga4") == [
        "TAP_GA4_LOOKBACK_DAYS='three' is not a whole number: set it to e.g. 3 (meltano config tap-ga4 set lookback_days 3)"]
    assert "is not a JSON list" in typed_settings({"reports": "daily"}, schema, "tap-ga4")[0]


def test_a_single_property_id_as_text_is_a_list_of_one(sandbox, tmp_path):
    done = cli(["--discover"], sandbox.config(property_ids="412345678"), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"tap_stream_id"' in done.stdout
