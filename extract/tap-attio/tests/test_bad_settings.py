"""Bad settings named in one line: an API URL nothing answers at, numbers and lists given as text.

The shared logic behind them is tested in extract/tap-support; here, this tap's own settings and messages."""
from __future__ import annotations

from tap_attio.tap import TapAttio
from tributary_tap_support.settings import typed_settings
from tributary_tap_support.testing import assert_failed_naming, assert_fails_fast_naming, closed_port
from tests.runner import cli


def test_an_api_url_nothing_listens_at_fails_fast_naming_the_setting(sandbox, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/attio/v2"
    assert_fails_fast_naming(lambda: cli(["--discover"], sandbox.config(api_url=url), tmp_path),
                             f"cannot reach the Attio API at {url} (connection refused): check TAP_ATTIO_API_URL")


def test_numbers_and_lists_given_as_text_are_converted_or_named():
    schema = TapAttio.config_jsonschema
    config = {"page_size": "300", "max_requests_per_second": "50.5", "objects": "people, deals"}
    assert typed_settings(config, schema, "tap-attio") == []
    assert config == {"page_size": 300, "max_requests_per_second": 50.5, "objects": ["people", "deals"]}
    config = {"objects": '["people"]'}
    assert typed_settings(config, schema, "tap-attio") == [] and config["objects"] == ["people"]
    assert typed_settings({"page_size": "many"}, schema, "tap-attio") == [
        "TAP_ATTIO_PAGE_SIZE='many' is not a whole number: set it to e.g. 500 (meltano config tap-attio set page_size 500)"]
    assert "above 500" in typed_settings({"page_size": 1000}, schema, "tap-attio")[0]


def test_a_page_size_that_is_not_a_number_names_the_setting(sandbox, tmp_path):
    done = cli(["--discover"], sandbox.config(page_size="many"), tmp_path)
    assert_failed_naming(done, "TAP_ATTIO_PAGE_SIZE='many' is not a whole number")
