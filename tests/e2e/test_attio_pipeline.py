"""Attio end to end: tap-attio → target-postgres → dbt, run by Meltano against the sandbox."""

from __future__ import annotations

import pytest

from incremental import an_hour_passes, assert_a_full_refresh_changes_nothing, incremental_models, inserted_rows

PIPELINE = ("run", "tap-attio", "target-postgres")
OBJECT_TABLES = ["companies", "people", "deals", "users", "workspaces", "subscriptions"]


def live_rows(stack, table: str) -> int:
    return stack.scalar(f"select count(*) from raw_attio.{table} where _sdc_deleted_at is null")


@pytest.fixture(scope="module")
def first_run(stack):
    stack.reset()
    result = stack.meltano("run", "attio")
    assert result.ok, result.output[-4000:]
    return stack.sandbox("GET", "/_sandbox/attio/counts")


def test_every_object_and_list_lands_whole(stack, first_run):
    for table in OBJECT_TABLES + ["notes", "tasks", "workspace_members"]:
        assert live_rows(stack, table) == first_run[table], table
    assert live_rows(stack, "list_entries_sales_pipeline") == first_run["list:sales_pipeline"]


def test_values_are_flattened_to_current_typed_columns(stack, first_run):
    # a deal's stage column holds the value whose active_until is null in the raw history
    mismatches = stack.scalar("""
        select count(*) from raw_attio.deals d
        where d.stage is distinct from (
            select v->'status'->>'title' from jsonb_array_elements(d."values"->'stage') v
            where v->>'active_until' is null limit 1)""")
    assert mismatches == 0
    assert stack.scalar("select count(*) from raw_attio.people where email_addresses is null or cardinality(email_addresses) = 0") < first_run["people"]


def test_pipeline_mart_matches_the_crm(stack, first_run):
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") == first_run["deals"]
    won = stack.scalar("select count(*) from raw_attio.deals where _sdc_deleted_at is null and stage like 'Won%%'")
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline where is_won") == won


def test_a_changed_record_arrives_on_the_next_default_run(stack, first_run):
    changed = stack.sandbox("POST", "/_sandbox/attio/mutate",
                            {"object": "deals", "update": 3, "delete": 1, "create": 2})
    result = stack.meltano("run", "attio")
    assert result.ok, result.output[-4000:]
    for update in changed["updated"]:
        loaded = stack.sql(f"select {update['attribute']} from raw_attio.deals where record_id = %s",
                           (update["record_id"],))
        assert loaded and str(loaded[0][0]) == str(update["value"]), update
    for record_id in changed["created"]:
        assert stack.scalar("select count(*) from marts.attio__deal_pipeline where deal_id = %s", (record_id,)) == 1
    for record_id in changed["deleted"]:
        assert stack.scalar("select count(*) from marts.attio__deal_pipeline where deal_id = %s", (record_id,)) == 0
        assert stack.scalar("select count(*) from raw_attio.deals where record_id = %s and _sdc_deleted_at is not null",
                            (record_id,)) == 1
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") == first_run["deals"] + 1
    assert_a_full_refresh_changes_nothing(stack, "attio", 7)  # the build was incremental, the deletion applied


@pytest.mark.slow  # two more job runs; the full-refresh check is in make test too
def test_an_hourly_build_parses_only_the_changed_records_and_equals_a_full_refresh(stack, first_run):
    """Attio re-sends every record on every run; the loader keeps an unchanged record's stamp, so the
    staging tables rebuild the records that changed, appeared or were deleted, and nothing else."""
    raw_tables = [table for (table,) in stack.sql("select table_name from information_schema.tables "
                                                  "where table_schema = 'raw_attio'")]
    an_hour_passes(stack, [*((f"raw_attio.{table}", column) for table in raw_tables
                             for column in ("_sdc_batched_at", "_sdc_deleted_at")),
                           *((model, "_loaded_at") for model in incremental_models(stack, "attio"))])
    people_before = stack.scalar("select count(*) from staging.stg_attio__people")
    deleted = []
    for change in ({"object": "people", "update": 2, "delete": 1}, {"object": "people", "update": 1, "create": 1}):
        deleted += stack.sandbox("POST", "/_sandbox/attio/mutate", change)["deleted"]
        result = stack.meltano("run", "attio")
        assert result.ok, result.output[-4000:]

    # the last build parsed the people these two runs changed, not every person Attio re-sent
    changed_people = stack.scalar("""select count(*) from raw_attio.people where _sdc_deleted_at is null
                                      and _sdc_batched_at > (now() at time zone 'UTC') - interval '30 minutes'""")
    assert 0 < inserted_rows(result.output, "stg_attio__people") == changed_people < people_before / 10
    assert stack.scalar("select count(*) from staging.stg_attio__people where person_id = any(%s)", (deleted,)) == 0
    assert stack.scalar("select count(*) from staging.stg_attio__people") == people_before - 1 + 1
    assert_a_full_refresh_changes_nothing(stack, "attio", 7)


def test_a_new_custom_attribute_becomes_a_column_with_no_manual_step(stack, first_run):
    stack.sandbox("POST", "/_sandbox/attio/attributes",
                  {"object": "companies", "api_slug": "renewal_month", "type": "text", "fill": "March", "every": 3})
    result = stack.meltano(*PIPELINE)
    assert result.ok, result.output[-4000:]
    filled = stack.scalar("select count(*) from raw_attio.companies where renewal_month = 'March'")
    assert filled == -(-first_run["companies"] // 3)


def test_a_wrong_api_key_is_named(stack, first_run):
    result = stack.meltano(*PIPELINE, env={"TAP_ATTIO_API_KEY": "wrong-key"})
    assert not result.ok
    assert "TAP_ATTIO_API_KEY" in result.output
    assert "wrong-key" not in result.output
