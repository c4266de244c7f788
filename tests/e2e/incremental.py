"""The incremental models' promise, checked after real runs: what hourly builds left in each table
is exactly what a full rebuild from all of history gives (transform/macros/incremental/)."""

from __future__ import annotations

import re


def incremental_models(stack, source: str) -> list[str]:
    """The source's incremental models (schema.table): the tables of staging and intermediate that
    record the code that built them (incremental_record_code; the other tables and views do not)."""
    return [name for (name,) in stack.sql(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('staging', 'intermediate') and table_type = 'BASE TABLE' "
        "and (table_name like %s or table_name like %s) "
        "and obj_description(format('%%I.%%I', table_schema, table_name)::regclass, 'pg_class') like 'tributary-code:%%' "
        "order by 1", (f"stg\\_{source}\\_\\_%", f"int\\_{source}\\_\\_%"))]


def model_rows(stack, models: list[str], schema: str = "staging") -> dict[str, tuple]:
    """Each model's row count and a digest of its rows, in a stable order (a name without its
    schema is in `schema`)."""
    return {model: tuple(stack.sql(f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                                   f"from {model if '.' in model else f'{schema}.{model}'} as t")[0]) for model in models}


def assert_a_full_refresh_changes_nothing(stack, source: str, expected_models: int,
                                         env: dict[str, str] | None = None) -> None:
    models = incremental_models(stack, source)
    assert len(models) == expected_models, models
    incremental = model_rows(stack, models)
    rebuilt = stack.meltano("invoke", f"dbt:build_{source}", "--full-refresh", env=env)
    assert rebuilt.ok, rebuilt.output[-4000:]
    assert model_rows(stack, models) == incremental


def instance_rows(stack, tables: tuple[str, ...], source_relation: str) -> dict[str, tuple]:
    """One instance's row count and a digest of its rows in each table (schema.table), in a stable order."""
    return {table: tuple(stack.sql(f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                                   f"from {table} as t where source_relation = %s", (source_relation,))[0])
            for table in tables}


def inserted_rows(output: str, model: str, schema: str = "staging") -> int:
    """What dbt reports it inserted into an incremental model ("... staging.<model> ... [INSERT 0 12 in ...")."""
    line = next(line for line in output.splitlines() if f"incremental model {schema}.{model} " in line and "INSERT" in line)
    return int(re.search(r"INSERT 0 (\d+)", line).group(1))


def an_hour_passes(stack, tables_and_columns: list[tuple[str, str]]) -> None:
    """What earlier runs loaded, and the models built from it, becomes an hour old, as it is for an
    hourly schedule. (A build still re-reads the 2 minutes of loads before its watermark, the late
    window: after this, the next build re-reads the whole earlier load, the one after it does not.)"""
    for table, column in tables_and_columns:
        hour = "3600000" if column == "_sdc_sync_started_at" else "interval '1 hour'"  # (that one in epoch ms)
        stack.sql(f"with moved as (update {table} set {column} = {column} - {hour} returning 1) "
                  "select count(*) from moved")
