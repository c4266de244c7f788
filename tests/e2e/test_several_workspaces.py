"""Several Attio workspaces in one warehouse (issue #18), end to end: a second workspace declared the
Meltano way, an extractor inheriting from tap-attio (tap-attio--second,
extract/extractors.meltano.yml) with its own API key, state and raw schema (raw_attio_second); the
sandbox serves it as a workspace of its own under /instances/second/. The Attio models read both
schemas (TRIBUTARY_ATTIO_SCHEMAS) and carry each row's workspace as source_relation."""

from __future__ import annotations

import pytest

from incremental import assert_a_full_refresh_changes_nothing, instance_rows

SCALE = 0.1
WORKSPACES = {"raw_attio": "/_sandbox/attio", "raw_attio_second": "/instances/second/_sandbox/attio"}
BOTH = {"TRIBUTARY_ATTIO_SCHEMAS": "raw_attio,raw_attio_second"}
JOBS = {"raw_attio": ["attio"], "raw_attio_second": ["tap-attio--second", "target-postgres", "dbt:build_attio"]}


def counts(stack, workspace: str) -> dict[str, int]:
    return stack.sandbox("GET", f"{WORKSPACES[workspace]}/counts")


def deals_in_mart(stack, workspace: str) -> set[str]:
    return {deal for (deal,) in stack.sql(
        "select deal_id from marts.attio__deal_pipeline where source_relation = %s", (workspace,))}


def live_deals(stack, workspace: str) -> set[str]:
    return {deal for (deal,) in stack.sql(f"select record_id from {workspace}.deals where _sdc_deleted_at is null")}


def workspace_rows(stack, workspace: str) -> dict[str, tuple]:
    tables = ("marts.attio__deal_pipeline", "staging.stg_attio__people", "staging.stg_attio__companies",
              "staging.stg_attio__deals", "staging.stg_attio__list_entries", "staging.stg_attio__notes")
    return instance_rows(stack, tables, workspace)


def run(stack, job: list[str]):
    result = stack.meltano("run", *job, env=BOTH)
    assert result.ok, result.output[-4000:]
    return result


@pytest.fixture(scope="module")
def two_workspaces(stack):
    stack.reset(scale=SCALE)
    for job in JOBS.values():
        run(stack, job)
    yield
    stack.reset()


def test_each_workspace_lands_in_its_own_schema_and_its_marts(stack, two_workspaces):
    for workspace in WORKSPACES:
        expected = counts(stack, workspace)
        for table in ("people", "companies", "deals", "notes"):
            assert stack.scalar(f"select count(*) from {workspace}.{table} where _sdc_deleted_at is null") \
                == expected[table], (workspace, table)
        assert deals_in_mart(stack, workspace) == live_deals(stack, workspace)
        assert len(deals_in_mart(stack, workspace)) == expected["deals"]
    assert not deals_in_mart(stack, "raw_attio") & deals_in_mart(stack, "raw_attio_second")
    assert stack.state("dev:tap-attio--second-to-target-postgres"), "the second workspace keeps its own state"
    # Every person's company is one of its own workspace's (the references are per workspace).
    assert stack.scalar("""
        select count(*) from staging.stg_attio__people as person
        join staging.stg_attio__companies as company on company.company_id = person.company_id
        where company.source_relation <> person.source_relation""") == 0


def copy_into_second_workspace(stack, table: str, record_id: str) -> None:
    """A record of the first workspace, its id kept, in the second's raw table: what a workspace
    copied from another holds (Attio's ids are UUIDs, so only then do two workspaces share one)."""
    columns = ", ".join(f'"{name}"' for (name,) in stack.sql(
        "select column_name from information_schema.columns where table_schema = 'raw_attio' and table_name = %s "
        "and column_name in (select column_name from information_schema.columns "
        "where table_schema = 'raw_attio_second' and table_name = %s)", (table, table)))
    stack.sql(f"with copied as (insert into raw_attio_second.{table} ({columns}) select {columns} "
              f"from raw_attio.{table} where record_id = %s returning 1) select count(*) from copied", (record_id,))


def test_a_change_in_one_workspace_touches_no_other(stack, two_workspaces):
    shared_id = stack.scalar("select deal_id from marts.attio__deal_pipeline where source_relation = 'raw_attio' "
                             "order by deal_id limit 1")
    copy_into_second_workspace(stack, "deals", shared_id)
    first_before = workspace_rows(stack, "raw_attio")
    changed = stack.sandbox("POST", f"{WORKSPACES['raw_attio_second']}/mutate",
                            {"object": "deals", "update": 2, "delete": 1, "create": 1})
    run(stack, JOBS["raw_attio_second"])
    second = deals_in_mart(stack, "raw_attio_second")
    assert set(changed["created"]) <= second and not set(changed["deleted"]) & second
    # The copy is not in the second workspace: its load marked it deleted there, and only there.
    assert shared_id not in second and shared_id in deals_in_mart(stack, "raw_attio")
    assert len(second) == counts(stack, "raw_attio_second")["deals"]
    assert workspace_rows(stack, "raw_attio") == first_before
    assert_a_full_refresh_changes_nothing(stack, "attio", 7, env=BOTH)


def test_a_wrong_key_fails_only_its_own_workspace_naming_its_setting(stack, two_workspaces):
    # The first workspace's key: a real key, but not this workspace's.
    result = stack.meltano("run", *JOBS["raw_attio_second"],
                           env={**BOTH, "TAP_ATTIO__SECOND_API_KEY": "sandbox-attio-api-key"})
    assert not result.ok
    assert "TAP_ATTIO__SECOND_API_KEY" in result.output, result.output[-3000:]
    assert "sandbox-attio-api-key" not in result.output
    stack.sandbox("POST", f"{WORKSPACES['raw_attio']}/mutate", {"object": "deals", "create": 1})
    run(stack, JOBS["raw_attio"])
    assert deals_in_mart(stack, "raw_attio") == live_deals(stack, "raw_attio")



def test_a_schema_list_that_is_not_schema_names_stops_the_build_naming_it(stack, two_workspaces):
    """TRIBUTARY_<SOURCE>_SCHEMAS is pasted into SQL as identifiers: anything but a loader's schema
    name (raw_ and lower-case letters, digits, _) is refused before any SQL runs."""
    hostile = 'raw_attio,raw_attio_second"; drop schema marts cascade; --'
    result = stack.meltano("invoke", "dbt:run", "--select", "stg_attio__deals", env={"TRIBUTARY_ATTIO_SCHEMAS": hostile})
    assert not result.ok
    assert "is not a loader's schema name" in result.output and "TRIBUTARY_ATTIO_SCHEMAS" in result.output, \
        result.output[-3000:]
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") > 0

