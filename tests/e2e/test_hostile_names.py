"""Hostile names, through the real `meltano run attio` (tap → loader → dbt): anyone who can add an
attribute, an object or a list in the business's Attio names a column or a table in the warehouse.
Quotes, semicolons, backslashes, `$$`, unicode, reserved words, 64+ bytes, names that meet after
normalising, names of the tap's own tables, and one that tried to run a shell command on the
database server through the stock loader's COPY: nothing executes (a canary table and a canary
file stay untouched), each lands under a plain name of its own with every row, and a second run
changes no name.

GA4's custom definitions go the same way through `meltano run ga4`. Shopify's and QuickBooks' names
are the tap's own (fixed schemas: custom fields arrive as values, never as names). The loader's own
quoting of any name is tested in tests/test_target_postgres.py; GA4's column naming of names GA4
itself would refuse in extract/tap-ga4/tests/test_hostile_answers.py."""

from __future__ import annotations

import json
import re

import psycopg
import pytest

from tap_ga4.reports import FIXED_COLUMNS
from this_worker import WAREHOUSE
from truth import assert_warehouse_matches_truth, compare_ga4_reports

SCALE = 0.05
CANARY_TABLE = "raw_attio.zz_canary"


def hostile_slugs(canary_file) -> list[str]:
    return [f"id\") FROM PROGRAM 'touch {canary_file}' --", 'quote"inside', "semi;colon; drop table people",
            "back\\slash", "$$dollar$$", "prénom", "名前", "select", "order", "ARR currency", "arr-currency",
            "arr_currency", "x" * 70]


def raw_tables(stack) -> set[str]:
    return {name for (name,) in stack.sql("select table_name from information_schema.tables where table_schema = 'raw_attio'")}


def columns_of(stack, schema: str, table: str) -> set[str]:
    return {name for (name,) in stack.sql(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table))}


def columns(stack, table: str) -> set[str]:
    return columns_of(stack, "raw_attio", table)


def people_columns(stack) -> set[str]:
    return columns(stack, "people")


def plant_canary(stack, tmp_path):
    """A table nothing may touch (in the loader's own schema, where its owner could drop it) and
    a file nothing may create. The world's reset at the end takes the table away."""
    with psycopg.connect(**WAREHOUSE, autocommit=True) as owner:
        owner.execute(f"create table {CANARY_TABLE} (n int)")
        owner.execute(f"insert into {CANARY_TABLE} values (42)")
    return tmp_path / "canary"


def assert_canary_untouched(stack, canary_file) -> None:
    assert not canary_file.exists(), "a name ran a command on the database server"
    assert stack.sql(f"select n from {CANARY_TABLE}") == [(42,)]


@pytest.fixture
def world(stack):
    scale_before = stack.sandbox("GET", "/_sandbox/health")["scale"]
    stack.reset(scale=SCALE)
    yield
    stack.reset(scale=scale_before)


def test_hostile_attribute_names_execute_nothing_and_land_under_plain_stable_names(stack, world, tmp_path):
    first = stack.meltano("run", "attio")
    assert first.ok, first.output[-4000:]
    canary = plant_canary(stack, tmp_path)
    before = people_columns(stack)
    slugs = hostile_slugs(canary)
    for number, slug in enumerate(slugs):
        stack.sandbox("POST", "/_sandbox/attio/attributes",
                      {"object": "people", "api_slug": slug, "type": "text", "fill": f"value {number}", "every": 1})

    second = stack.meltano("run", "attio")
    assert second.ok, second.output[-4000:]
    assert_canary_untouched(stack, canary)
    added = people_columns(stack) - before
    assert len(added) == len(slugs), sorted(added)  # one column each: none met another
    assert all(re.fullmatch(r"[a-z0-9_]+", name) and len(name.encode()) <= 63 for name in added), sorted(added)
    # each attribute's value is in its own column, and nowhere else
    for number in range(len(slugs)):
        holding = [name for name in added if stack.scalar(
            f'select count(*) from raw_attio.people where "{name}" = %s', (f"value {number}",))]
        assert len(holding) == 1, (slugs[number], holding)
    assert_warehouse_matches_truth("attio")

    third = stack.meltano("run", "attio")
    assert third.ok, third.output[-4000:]
    assert people_columns(stack) - before == added  # no name changed between runs


def test_hostile_object_and_list_slugs_execute_nothing_and_land_in_tables_of_their_own(stack, world, tmp_path):
    """Objects and lists name tables. Attio makes slugs snake_case, but the tap takes no slug on
    trust: besides the hostile ones, an object named like one of the tap's own tables (`notes`)
    or like a list's table (`list_entries_key_accounts`) must not take it over, and a slug with
    `/`, `?` or `#` must still reach its own endpoint."""
    first = stack.meltano("run", "attio")
    assert first.ok, first.output[-4000:]
    canary = plant_canary(stack, tmp_path)
    before = raw_tables(stack)
    notes_before = stack.scalar("select count(*) from raw_attio.notes where _sdc_deleted_at is null")
    key_accounts_before = stack.scalar(
        "select count(*) from raw_attio.list_entries_key_accounts where _sdc_deleted_at is null")
    object_slugs = [*hostile_slugs(canary)[:6], "notes", "list_entries_key_accounts", "select", "y" * 70,
                    "path/../objects?x#y"]
    list_slugs = ["key_accounts x", "order;", 'q"uote', "z" * 60]
    for number, slug in enumerate(object_slugs):
        stack.sandbox("POST", "/_sandbox/attio/objects", {"api_slug": slug, "singular_noun": f"Thing {number}",
                                                          "records": number + 1})
    for number, slug in enumerate(list_slugs):
        stack.sandbox("POST", "/_sandbox/attio/lists", {"api_slug": slug, "parent_object": "companies",
                                                        "entries": number + 1})

    second = stack.meltano("run", "attio")
    assert second.ok, second.output[-4000:]
    assert_canary_untouched(stack, canary)
    added = raw_tables(stack) - before
    assert len(added) == len(object_slugs) + len(list_slugs), sorted(added)   # one table each
    assert all(re.fullmatch(r"[a-z0-9_]+", name) and len(name.encode()) <= 63 for name in added), sorted(added)
    assert "select" in added   # a plain slug keeps its own name, reserved word or not
    # each object's records are in its own table and nowhere else (record counts differ by design)
    for number in range(len(object_slugs)):
        holding = [name for name in added if "name" in columns(stack, name) and stack.scalar(
            f'select count(*) from raw_attio."{name}" where name = %s', (f"Thing {number} 1",))]
        assert len(holding) == 1, (object_slugs[number], holding)
        assert stack.scalar(f'select count(*) from raw_attio."{holding[0]}"') == number + 1
    # the tap's own tables are still theirs
    assert stack.scalar("select count(*) from raw_attio.notes where _sdc_deleted_at is null") == notes_before
    assert stack.scalar("select count(*) from raw_attio.list_entries_key_accounts "
                        "where _sdc_deleted_at is null") == key_accounts_before
    assert_warehouse_matches_truth("attio")   # every record and entry, under the tap's names

    third = stack.meltano("run", "attio")
    assert third.ok, third.output[-4000:]
    assert raw_tables(stack) - before == added   # no name changed between runs
    assert_warehouse_matches_truth("attio")


@pytest.mark.slow  # a GA4 backfill of its own (minutes); the names themselves: tap-ga4 test_hostile_answers.py
def test_ga4_custom_definitions_that_meet_after_normalising_land_in_columns_of_their_own(stack, world):
    """GA4 custom dimensions are named after the site's event parameters (a letter, then letters,
    digits and `_`, at most 40 characters: GA4 refuses the rest, and so does the sandbox), so the
    risks are names that differ only in case or scope, reserved words and length. A report of the
    user's own (the `reports` setting) asks for all of them, through the real job (dbt included)."""
    parameters = [("Plan_Type", "event"), ("plan_type", "event"), ("PLAN_TYPE", "event"), ("plan_type", "user"),
                  ("select", "event"), ("order", "user"), ("a" + "b" * 39, "event")]
    for parameter, scope in parameters:
        stack.sandbox("POST", "/_sandbox/ga4/custom-dimensions", {"parameter": parameter, "scope": scope})
    custom = [f"custom{scope.capitalize()}:{parameter}" for parameter, scope in parameters]
    report = {"name": "hostile_definitions", "dimensions": ["date", *custom], "metrics": ["sessions"]}
    env = {"TAP_GA4_REPORTS": json.dumps([report])}

    first = stack.meltano("run", "ga4")   # the default reports, which dbt's GA4 models read
    assert first.ok, first.output[-4000:]
    second = stack.meltano("run", "ga4", env=env)
    assert second.ok, second.output[-4000:]
    added = columns_of(stack, "raw_ga4", "hostile_definitions") - set(FIXED_COLUMNS) - {"sessions"}
    added = {name for name in added if not name.startswith("_sdc_")}
    assert len(added) == len(custom), sorted(added)   # one column each: none met another
    assert all(re.fullmatch(r"[a-z0-9_]+", name) and len(name.encode()) <= 63 for name in added), sorted(added)
    assert {"custom_event__select", "custom_user__order", "custom_event__plan_type", "custom_user__plan_type"} <= added
    comparison = compare_ga4_reports([report])   # every row and figure, under the tap's names
    assert comparison.ok, comparison.report()
    assert comparison.rows()["hostile_definitions"] > 0

    third = stack.meltano("run", "ga4", env=env)
    assert third.ok, third.output[-4000:]
    assert {name for name in columns_of(stack, "raw_ga4", "hostile_definitions")
            if not name.startswith("_sdc_")} - set(FIXED_COLUMNS) - {"sessions"} == added   # no name changed
