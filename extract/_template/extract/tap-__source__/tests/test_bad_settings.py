"""Bad settings named in one line: an API URL nothing answers at, numbers and lists given as text.

The shared logic behind them is tested in extract/tap-support; here, this tap's own settings and messages."""
from __future__ import annotations

from tap___source__.tap import Tap__Source__
from tributary_tap_support.settings import typed_settings
from tributary_tap_support.testing import assert_failed_naming, assert_fails_fast_naming, closed_port
from tests.runner import cli


def test_an_api_url_nothing_listens_at_fails_fast_naming_the_setting(sandbox, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/__source__/v1"
    assert_fails_fast_naming(lambda: cli([], sandbox.config(api_url=url), tmp_path),
                             f"cannot reach the __Source__ API at {url} (connection refused): check TAP___SOURCE___API_URL")


def test_numbers_given_as_text_are_converted_or_named():
    schema = Tap__Source__.config_jsonschema
    config = {"page_size": "50"}
    assert typed_settings(config, schema, "tap-__source__") == [] and config == {"page_size": 50}
    assert typed_settings({"page_size": "lots"}, schema, "tap-__source__") == [
        "TAP___SOURCE___PAGE_SIZE='lots' is not a whole number: set it to e.g. 100 "
        "(meltano config tap-__source__ set page_size 100)"]


def test_a_page_size_that_is_not_a_number_names_the_setting(sandbox, tmp_path):
    done = cli([], sandbox.config(page_size="lots"), tmp_path)
    assert_failed_naming(done, "TAP___SOURCE___PAGE_SIZE='lots' is not a whole number")
