"""Number and list settings given as text: converted, or named in one line with their fix."""
from __future__ import annotations

from tributary_tap_support.settings import typed_settings

SCHEMA = {"properties": {
    "page_size": {"type": ["integer"], "minimum": 1, "maximum": 500, "default": 500},
    "rate": {"type": ["number", "null"]},
    "names": {"type": ["array"], "items": {"type": ["string"]}},
    "reports": {"type": ["array"], "items": {"type": ["object"]}},
    "api_key": {"type": ["string"], "secret": True},
    "start_date": {"type": ["string"]},
}}


def test_numbers_given_as_text_are_converted():
    config = {"page_size": " 300 ", "rate": "50.5", "start_date": "2024-01-01"}
    assert typed_settings(config, SCHEMA, "tap-x") == []
    assert config == {"page_size": 300, "rate": 50.5, "start_date": "2024-01-01"}
    config = {"page_size": 20.0, "rate": "7"}
    assert typed_settings(config, SCHEMA, "tap-x") == [] and config == {"page_size": 20, "rate": 7}


def test_a_list_of_strings_may_be_json_a_bare_value_or_commas():
    for given in ('["a", "b"]', "a, b", ["a", "b"], "[1, 2]", [1, 2], "1,2"):
        config = {"names": given}
        assert typed_settings(config, SCHEMA, "tap-x") == [], given
        assert config["names"] in (["a", "b"], ["1", "2"]), given
    config = {"names": 412345678}
    assert typed_settings(config, SCHEMA, "tap-x") == [] and config["names"] == ["412345678"]


def test_a_bad_value_is_named_with_its_variable_and_a_command_that_fixes_it():
    assert typed_settings({"page_size": "many"}, SCHEMA, "tap-x") == [
        "TAP_X_PAGE_SIZE='many' is not a whole number: set it to e.g. 500 (meltano config tap-x set page_size 500)"]
    assert typed_settings({"rate": "fast"}, SCHEMA, "tap-x") == [
        "TAP_X_RATE='fast' is not a number: set it to e.g. 1 (meltano config tap-x set rate 1)"]
    assert typed_settings({"reports": "daily"}, SCHEMA, "tap-x") == [
        "TAP_X_REPORTS='daily' is not a JSON list: set it to e.g. [\"...\"] (meltano config tap-x set reports '[\"...\"]')"]
    assert typed_settings({"names": '["a"'}, SCHEMA, "tap-x")[0].startswith("TAP_X_NAMES='[\"a\"' is not a JSON list")
    assert typed_settings({"names": {"a": 1}}, SCHEMA, "tap-x")[0].startswith("TAP_X_NAMES={'a': 1} is not a list")


def test_out_of_range_numbers_name_the_limit():
    assert typed_settings({"page_size": 1000}, SCHEMA, "tap-x") == [
        "TAP_X_PAGE_SIZE=1000 is above 500, the most allowed: set it to e.g. 500 (meltano config tap-x set page_size 500)"]
    assert typed_settings({"page_size": "0"}, SCHEMA, "tap-x")[0].startswith(
        "TAP_X_PAGE_SIZE='0' is below 1, the least allowed")


def test_examples_given_by_the_tap_replace_the_default_and_secrets_are_never_echoed():
    errors = typed_settings({"page_size": "x", "api_key": "12345"}, SCHEMA, "tap-my-source", {"page_size": "100"})
    assert errors == ["TAP_MY_SOURCE_PAGE_SIZE='x' is not a whole number: set it to e.g. 100 "
                      "(meltano config tap-my-source set page_size 100)"]
    assert "12345" not in " ".join(errors)


def test_an_empty_number_or_list_means_unset_and_nan_is_no_number():
    config = {"page_size": " ", "names": "", "rate": "nan"}
    assert typed_settings(config, SCHEMA, "tap-x") == [
        "TAP_X_RATE='nan' is not a number: set it to e.g. 1 (meltano config tap-x set rate 1)"]
    assert "page_size" not in config and "names" not in config


def test_a_note_says_what_the_setting_is_for():
    schema = {"properties": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}}
    notes = {"port": "the warehouse's port"}
    assert typed_settings({"port": "five"}, schema, "dbt", examples={"port": "5432"}, notes=notes) == [
        "DBT_PORT='five' is not a whole number (the warehouse's port): set it to e.g. 5432 "
        "(meltano config dbt set port 5432)"]
    assert typed_settings({"port": "0"}, schema, "dbt", notes=notes)[0].startswith(
        "DBT_PORT='0' is below 1, the least allowed (the warehouse's port): ")


def test_a_value_of_another_type_is_named_not_passed_on():
    schema = {"properties": {"rows": {"type": "integer"}, "share": {"type": "number"}}}
    for value in (True, 2.5, [5], {"a": 1}):
        assert typed_settings({"rows": value}, schema, "tap-x")[0].startswith("TAP_X_ROWS="), value
    for value in (True, "half", [0.5], float("inf")):
        assert typed_settings({"share": value}, schema, "tap-x")[0].startswith("TAP_X_SHARE="), value
    config = {"rows": 7.0, "share": 1}
    assert typed_settings(config, schema, "tap-x") == [] and config == {"rows": 7, "share": 1}
    from decimal import Decimal   # what the SDK reads from a config file
    config = {"rows": Decimal("7"), "share": Decimal("0.02")}
    assert typed_settings(config, schema, "tap-x") == [] and config == {"rows": 7, "share": Decimal("0.02")}


def test_an_empty_required_setting_stays_to_be_named():
    schema = {"required": ["ids"], "properties": {"ids": {"type": "array", "items": {"type": "string"}}}}
    config = {"ids": ""}
    typed_settings(config, schema, "tap-x")
    assert "ids" in config
