"""Hostile names, through the real `meltano run attio` (tap → loader → dbt): anyone who can add an
attribute in the business's Attio names a column in the warehouse. Quotes, semicolons, backslashes,
`$$`, unicode, reserved words, 64+ bytes, names that meet after normalising, and one that tried to
run a shell command on the database server through the stock loader's COPY: nothing executes (a
canary table and a canary file stay untouched), each attribute lands in a column of its own with
a plain name, and a second run changes no name.

The loader's own quoting of any name is tested in tests/test_target_postgres.py; GA4's custom
definition names in extract/tap-ga4/tests/test_hostile_answers.py."""

from __future__ import annotations

import re

import psycopg
import pytest

from this_worker import WAREHOUSE
from truth import assert_warehouse_matches_truth

SCALE = 0.05
CANARY_TABLE = "raw_attio.zz_canary"


def hostile_slugs(canary_file) -> list[str]:
    return [f"id\") FROM PROGRAM 'touch {canary_file}' --", 'quote"inside', "semi;colon; drop table people",
            "back\\slash", "$$dollar$$", "prénom", "名前", "select", "order", "ARR currency", "arr-currency",
            "arr_currency", "x" * 70]


def people_columns(stack) -> set[str]:
    return {name for (name,) in stack.sql(
        "select column_name from information_schema.columns where table_schema = 'raw_attio' and table_name = 'people'")}


@pytest.fixture(scope="module")
def world(stack):
    scale_before = stack.sandbox("GET", "/_sandbox/health")["scale"]
    stack.reset(scale=SCALE)
    yield
    stack.reset(scale=scale_before)


def test_hostile_attribute_names_execute_nothing_and_land_under_plain_stable_names(stack, world, tmp_path):
    first = stack.meltano("run", "attio")
    assert first.ok, first.output[-4000:]
    before = people_columns(stack)
    with psycopg.connect(**WAREHOUSE, autocommit=True) as owner:
        owner.execute(f"create table {CANARY_TABLE} (n int)")
        owner.execute(f"insert into {CANARY_TABLE} values (42)")
    canary_file = tmp_path / "canary"
    slugs = hostile_slugs(canary_file)
    for number, slug in enumerate(slugs):
        stack.sandbox("POST", "/_sandbox/attio/attributes",
                      {"object": "people", "api_slug": slug, "type": "text", "fill": f"value {number}", "every": 1})

    second = stack.meltano("run", "attio")
    assert second.ok, second.output[-4000:]
    assert not canary_file.exists(), "a name ran a command on the database server"
    assert stack.sql(f"select n from {CANARY_TABLE}") == [(42,)]
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
    with psycopg.connect(**WAREHOUSE, autocommit=True) as owner:
        owner.execute(f"drop table {CANARY_TABLE}")
