"""TributaryTap: settings given as text, hinted config errors, and main()'s one-line failures."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tests.toy_tap import TapToy
from tributary_tap_support.testing import assert_failed_naming

SUPPORT = Path(__file__).resolve().parents[1]


def errors_of(config: dict) -> list[str]:
    with pytest.raises(ConfigValidationError) as raised:
        TapToy(config=config)
    return raised.value.errors


def test_settings_given_as_text_are_converted_in_the_taps_copy():
    given = {"api_key": "k", "page_size": "7", "names": "a, b"}
    tap = TapToy(config=given)
    assert (tap.config["page_size"], tap.config["names"]) == (7, ["a", "b"])
    assert given["page_size"] == "7", "the caller's dict is left as it was"
    assert tap.sdk_fast_path and not TapToy(config={"api_key": "k", "sdk_fast_path": False}).sdk_fast_path


def test_config_errors_name_the_setting_and_its_fix():
    assert errors_of({"api_key": "k", "page_size": "lots"}) == [
        "TAP_TOY_PAGE_SIZE='lots' is not a whole number: set it to e.g. 5 (meltano config tap-toy set page_size 5)"]
    assert errors_of({}) == ["'api_key' is a required property: set TAP_TOY_API_KEY (the toy's key)"]
    assert errors_of({"api_key": "forbidden"}) == ["api_key 'forbidden' is the toy's example key: set TAP_TOY_API_KEY"]
    # schema errors and the tap's own checks, all at once
    assert errors_of({"api_key": "forbidden", "fail": 5}) == [
        "5 is not of type 'string', 'null' in config['fail']", "api_key 'forbidden' is the toy's example key: set TAP_TOY_API_KEY"]


def test_without_validation_config_errors_are_only_warned(caplog):
    TapToy(config={"api_key": "forbidden", "page_size": "lots"}, validate_config=False)
    assert any("TAP_TOY_PAGE_SIZE='lots'" in message for message in caplog.messages)


def toy_cli(config: dict, tmp_path: Path, extractor: str | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {key: value for key, value in os.environ.items() if key != "MELTANO_EXTRACTOR_NAME"}
    return subprocess.run([sys.executable, "-m", "tests.toy_tap", "--config", str(path)], cwd=SUPPORT,
                          capture_output=True, text=True, timeout=120,
                          env={**env, **({"MELTANO_EXTRACTOR_NAME": extractor} if extractor else {})})


@pytest.mark.parametrize("config, line, code", [
    ({"api_key": "k", "page_size": "lots"}, "TAP_TOY_PAGE_SIZE='lots' is not a whole number", 1),
    ({}, "'api_key' is a required property: set TAP_TOY_API_KEY", 1),
    ({"api_key": "k", "fail": "fatal"}, "the toy API refused: check TAP_TOY_API_KEY", 1),
    ({"api_key": "k", "fail": "quota"}, "toy quota spent; run again tomorrow", 75),
    ({"api_key": "k", "fail": "retriable"}, "503 toy outage (gave up after retrying). Fix: run again later.", 1),
])
def test_main_says_each_failure_in_one_line_with_its_exit_code(tmp_path, config, line, code):
    done = toy_cli(config, tmp_path)
    assert_failed_naming(done, line)
    assert done.returncode == code, done.stderr[-2000:]


@pytest.mark.parametrize("config, line", [
    ({"api_key": "k", "page_size": "lots"},
     "TAP_TOY__ACME_PAGE_SIZE='lots' is not a whole number: set it to e.g. 5 (meltano config tap-toy--acme set page_size 5)"),
    ({"api_key": "k", "fail": "fatal"}, "the toy API refused: check TAP_TOY__ACME_API_KEY"),
])
def test_an_inherited_extractor_is_told_its_own_settings(tmp_path, config, line):
    """Another business's extractor (tap-toy--acme, inheriting tap-toy) is set through its own
    variables: the fix names them, not the first business's."""
    done = toy_cli(config, tmp_path, extractor="tap-toy--acme")
    assert_failed_naming(done, line)
    assert not re.search(r"TAP_TOY_[A-Z]|config tap-toy ", done.stderr), done.stderr[-2000:]


def test_main_leaves_a_failure_it_cannot_word_to_the_sdk(tmp_path):
    done = toy_cli({"api_key": "k", "fail": "bug"}, tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr and "ZeroDivisionError" in done.stderr
