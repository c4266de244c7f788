"""Our tuned target-postgres lands exactly what the stock meltanolabs target lands, only faster.

Both run from the loader's Meltano venv on the same Singer messages into the test warehouse:
awkward strings (backslashes, quotes, tabs, newlines, braces, unicode), nulls inside arrays,
nested objects and arrays of objects (jsonb[]), dates, numbers. Then re-loads upsert, and an
invalid record stops the load with one line naming the stream, the field and the fix. NUL
characters, which PostgreSQL cannot store, land as U+FFFD and are counted; a full listing that
would mark most of a table deleted is refused (the deletion guard).
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOADER_BIN = PROJECT_ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
STOCK, TUNED = LOADER_BIN / "target-postgres", LOADER_BIN / "target-postgres-wrapper"

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "note": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "count": {"type": ["integer", "null"]},
        "paid": {"type": ["boolean", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "tags": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        "customer": {"type": ["object", "null"], "properties": {"name": {"type": ["string", "null"]}}},
        "lines": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "sku": {"type": ["string", "null"]}, "quantity": {"type": ["integer", "null"]},
            "price": {"type": ["number", "null"]}}}},
        "anything": {},
    },
}
AWKWARD = 'back\\slash "quoted" tab\there\nnew line\r{braces},comma NULL \\N ünïcødé ✓'
RECORDS = [
    {"id": "a", "note": AWKWARD, "amount": 12.345, "count": 3, "paid": True, "created_at": "2026-11-25T10:00:00Z",
     "tags": [AWKWARD, None, "", "plain"], "customer": {"name": AWKWARD},
     "lines": [{"sku": AWKWARD, "quantity": 2, "price": 0.1}, {"sku": None, "quantity": None, "price": 1e-7}],
     "anything": {"nested": [AWKWARD, 1, None]}},
    {"id": "b", "note": None, "amount": None, "count": None, "paid": False, "created_at": None,
     "tags": [], "customer": None, "lines": [], "anything": "text"},
    {"id": "c", "note": "", "amount": -0.5, "count": -(2**40), "paid": None, "created_at": "2026-01-02T03:04:05.123456+02:00",
     "tags": None, "customer": {}, "lines": None, "anything": None},
]
COLUMNS = ", ".join(f'"{name}"' for name in SCHEMA["properties"]) + ", _sdc_extracted_at, _sdc_deleted_at"


def messages(records: list[dict], stream: str = "things") -> str:
    lines = [{"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": ["id"]}]
    lines += [{"type": "RECORD", "stream": stream, "record": r, "time_extracted": "2026-11-25T00:00:00+00:00"}
              for r in records]
    lines.append({"type": "STATE", "value": {"bookmarks": {stream: {"n": len(records)}}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def warehouse(stack) -> dict:
    """The test warehouse's connection settings, as the dev environment gives them to the loader."""
    return dict(host="127.0.0.1", port=int(stack.env["TARGET_POSTGRES_PORT"]), user="tributary",
                password="tributary-dev", dbname="warehouse")


def load(stack, executable, schema: str, tmp_path, text: str, env: dict | None = None,
         **settings) -> subprocess.CompletedProcess:
    config = tmp_path / f"{schema}.json"
    w = warehouse(stack)
    config.write_text(json.dumps({
        "host": w["host"], "port": w["port"], "user": w["user"], "password": w["password"],
        "database": w["dbname"], "default_target_schema": schema, "use_copy": True, "add_record_metadata": True,
        **settings}))
    return subprocess.run([str(executable), "--config", str(config)], input=text, text=True, capture_output=True,
                          timeout=300, env={**os.environ, **(env or {})})


def drop_schemas(stack, names) -> None:
    with psycopg.connect(**warehouse(stack), autocommit=True) as conn:
        for name in names:
            conn.execute(f"drop schema if exists {name} cascade")


@pytest.fixture()
def schemas(stack):
    names = ("tgt_stock", "tgt_tuned")
    drop_schemas(stack, names)
    yield names
    drop_schemas(stack, names)


def test_tuned_target_lands_what_the_stock_target_lands(stack, schemas, tmp_path):
    stock, tuned = schemas
    for executable, schema in ((STOCK, stock), (TUNED, tuned)):
        done = load(stack, executable, schema, tmp_path, messages(RECORDS))
        assert done.returncode == 0, done.stderr[-3000:]
        assert '{"bookmarks": {"things": {"n": 3}}}' in done.stdout  # state is emitted once data is in

    def column_types(schema):
        return stack.sql("select column_name, data_type, udt_name from information_schema.columns "
                         "where table_schema = %s and table_name = 'things' order by column_name", (schema,))

    assert column_types(tuned) == column_types(stock)
    assert ("lines", "ARRAY", "_jsonb") in column_types(tuned)  # nested arrays of objects stay jsonb[]
    rows = {s: stack.sql(f"select {COLUMNS} from {s}.things order by id") for s in schemas}
    assert rows[tuned] == rows[stock]
    assert len(rows[tuned]) == 3
    assert rows[tuned][0][1] == AWKWARD  # the note survived COPY's escaping byte for byte
    assert stack.scalar(f"select lines[1] ->> 'sku' from {tuned}.things where id = 'a'") == AWKWARD
    assert stack.scalar(f"select tags from {tuned}.things where id = 'a'") == [AWKWARD, None, "", "plain"]


def test_tuned_target_upserts_on_reload(stack, schemas, tmp_path):
    _, tuned = schemas
    assert load(stack, TUNED, tuned, tmp_path, messages(RECORDS)).returncode == 0
    changed = [{**RECORDS[0], "note": "first change"}, {**RECORDS[0], "note": "last change"},
               {**RECORDS[1], "id": "d"}]
    done = load(stack, TUNED, tuned, tmp_path, messages(changed))
    assert done.returncode == 0, done.stderr[-3000:]
    assert stack.sql(f"select id, note from {tuned}.things order by id") == [
        ("a", "last change"), ("b", None), ("c", ""), ("d", None)]


def table_statistics(stack, schema: str, table: str = "things") -> tuple:
    """What the planner knows of a table: its estimated rows (-1 = never analyzed) and whether a
    manual ANALYZE (not autovacuum's) has run on it."""
    return stack.sql("select c.reltuples::int, s.last_analyze is not null from pg_class c "
                     "join pg_namespace n on n.oid = c.relnamespace "
                     "join pg_stat_user_tables s on s.relid = c.oid where n.nspname = %s and c.relname = %s",
                     (schema, table))[0]


def test_every_table_a_load_writes_is_analyzed_before_dbt_reads_it(stack, schemas, tmp_path):
    """Right after a first load PostgreSQL has no statistics (reltuples -1) until autovacuum gets
    round to it; the stock target leaves it so (a table this small never reaches autovacuum's
    threshold at all), ours analyzes what it wrote, and again after each later load."""
    stock, tuned = schemas
    for executable, schema in ((STOCK, stock), (TUNED, tuned)):
        done = load(stack, executable, schema, tmp_path, messages(RECORDS))
        assert done.returncode == 0, done.stderr[-3000:]
    assert table_statistics(stack, stock) == (-1, False)
    assert table_statistics(stack, tuned) == (3, True)
    assert "stream 'things': table analyzed" in load(stack, TUNED, tuned, tmp_path, messages(
        [{**RECORDS[1], "id": f"new-{n}"} for n in range(4)])).stderr
    assert table_statistics(stack, tuned) == (7, True)
    # a run that writes nothing to a table leaves it alone
    quiet = load(stack, TUNED, tuned, tmp_path, messages([]))
    assert quiet.returncode == 0 and "table analyzed" not in quiet.stderr


def test_a_row_sent_again_unchanged_keeps_its_batched_at(stack, schemas, tmp_path):
    """_sdc_batched_at says when the loader last wrote a change to a row: Attio re-sends every record
    on every run, and the incremental models rebuild only the rows whose stamp moved."""
    _, tuned = schemas

    def stamps() -> dict:
        return dict(stack.sql(f"select id, _sdc_batched_at from {tuned}.things"))

    assert load(stack, TUNED, tuned, tmp_path, messages(RECORDS)).returncode == 0
    first = stamps()
    done = load(stack, TUNED, tuned, tmp_path, messages([RECORDS[0], {**RECORDS[1], "note": "changed"}, RECORDS[2]]))
    assert done.returncode == 0, done.stderr[-3000:]
    second = stamps()
    assert second["a"] == first["a"] and second["c"] == first["c"]  # sent again as they were
    assert second["b"] > first["b"]                                   # a value changed
    assert stack.scalar(f"select note from {tuned}.things where id = 'b'") == "changed"
    # a row marked deleted that comes back is a change too
    stack.sql(f"with marked as (update {tuned}.things set _sdc_deleted_at = now() where id = 'c' returning 1) "
              "select count(*) from marked")
    assert load(stack, TUNED, tuned, tmp_path, messages([RECORDS[2]])).returncode == 0
    third = stamps()
    assert third["c"] > second["c"] and third["a"] == first["a"]
    assert stack.scalar(f"select _sdc_deleted_at from {tuned}.things where id = 'c'") is None


def test_invalid_record_names_stream_field_and_fix(stack, schemas, tmp_path):
    _, tuned = schemas
    bad = {**RECORDS[1], "lines": [{"sku": "x", "quantity": "two"}]}
    done = load(stack, TUNED, tuned, tmp_path, messages([RECORDS[0], bad], stream="orders"))
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("target-postgres-wrapper | ERROR: invalid record in stream 'orders'"), last
    assert "field 'lines[0].quantity'" in last and "must be integer" in last and "Fix:" in last
    assert "two" not in last  # the value itself never reaches the log
    # nothing of the failed batch is committed (the table itself is created when the SCHEMA arrives)
    assert stack.scalar(f"select count(*) from {tuned}.orders") == 0


def test_nul_characters_land_as_the_replacement_character_and_are_counted(stack, schemas, tmp_path):
    """One NUL used to fail every COPY of the stream, naming none (`invalid byte sequence ... 0x00`
    in text, `unsupported Unicode escape sequence` in jsonb)."""
    _, tuned = schemas
    nul = "a\x00b"
    record = {**RECORDS[0], "note": nul, "tags": [nul, "\\u0000 is text"], "customer": {"name": nul},
              "lines": [{"sku": nul, "quantity": 1, "price": 1}], "anything": {nul: [nul, "\\u0000"]}}
    done = load(stack, TUNED, tuned, tmp_path, messages([record, RECORDS[1]]))
    assert done.returncode == 0, done.stderr[-3000:]
    assert stack.scalar(f"select note from {tuned}.things where id = 'a'") == "a\ufffdb"
    assert stack.scalar(f"select tags from {tuned}.things where id = 'a'") == ["a\ufffdb", "\\u0000 is text"]
    assert stack.scalar(f"select customer ->> 'name' from {tuned}.things where id = 'a'") == "a\ufffdb"
    assert stack.scalar(f"select lines[1] ->> 'sku' from {tuned}.things where id = 'a'") == "a\ufffdb"
    # an escaped backslash followed by "u0000" is text, not a NUL: left as it was
    # (an untyped column holds JSON text, as the stock target writes it: U+FFFD as its escape)
    assert json.loads(stack.scalar(f"select anything from {tuned}.things where id = 'a'")) == \
        {"a\ufffdb": ["a\ufffdb", "\\u0000"]}
    assert "stream 'things': 6 NUL characters (U+0000) replaced with U+FFFD" in done.stderr


def listing(ids: list[str], version: int, stream: str = "things") -> str:
    """A full-table listing as a tap sends it: records of one version, then ACTIVATE_VERSION."""
    lines = [{"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": ["id"]}]
    lines += [{"type": "RECORD", "stream": stream, "record": {"id": i, "note": f"v{version}"}, "version": version}
              for i in ids]
    lines.append({"type": "ACTIVATE_VERSION", "stream": stream, "version": version})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def live_ids(stack, schema: str) -> list[str]:
    return [row[0] for row in stack.sql(f"select id from {schema}.things where _sdc_deleted_at is null order by id")]


def test_a_listing_that_shrinks_past_the_guard_deletes_nothing_and_names_the_stream(stack, schemas, tmp_path):
    _, tuned = schemas
    everyone = [f"r{n:02}" for n in range(20)]
    assert load(stack, TUNED, tuned, tmp_path, listing(everyone, 1)).returncode == 0
    # a few real deletions: applied
    assert load(stack, TUNED, tuned, tmp_path, listing(everyone[:17], 2)).returncode == 0
    assert live_ids(stack, tuned) == everyone[:17]

    # the vendor lists 5 of 17 (an incident, a permission changed): 12 deletions, 71 %
    refused = load(stack, TUNED, tuned, tmp_path, listing(everyone[:5], 3))
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("target-postgres-wrapper | ERROR: stream 'things': this full listing would mark 12 of "
                           "the table's 17 live rows deleted (71%, above max_deletion_share 0.5)"), last
    assert "TARGET_POSTGRES_MAX_DELETION_SHARE=1" in last
    assert live_ids(stack, tuned) == everyone[:17]  # nothing marked deleted
    assert stack.scalar(f"select count(*) from {tuned}.things where note = 'v3'") == 5  # the listed rows are current

    # an empty first page (`data: []`) is the same listing of nothing
    assert load(stack, TUNED, tuned, tmp_path, listing([], 4)).returncode == 1
    assert live_ids(stack, tuned) == everyone[:17]

    # the next good listing needs no manual step; accepting real mass deletions is one setting
    assert load(stack, TUNED, tuned, tmp_path, listing(everyone[:16], 5)).returncode == 0
    assert live_ids(stack, tuned) == everyone[:16]
    accepted = load(stack, TUNED, tuned, tmp_path, listing(everyone[:2], 6), max_deletion_share="1")
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert live_ids(stack, tuned) == everyone[:2]


def test_a_deletion_share_that_is_not_a_share_is_named(stack, schemas, tmp_path):
    _, tuned = schemas
    done = load(stack, TUNED, tuned, tmp_path, listing(["a"], 1), max_deletion_share="half")
    assert done.returncode == 1
    assert "TARGET_POSTGRES_MAX_DELETION_SHARE='half' is not a number (the largest part of a table's live rows" in done.stderr.strip().splitlines()[-1]


def typed(stream: str, properties: dict, records: list[dict]) -> str:
    lines = [{"type": "SCHEMA", "stream": stream, "schema": {"type": "object", "properties": {
        "id": {"type": "string"}, **properties}}, "key_properties": ["id"]}]
    lines += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def test_a_column_the_source_retypes_is_widened_not_a_failure_of_every_run(stack, schemas, tmp_path):
    """Seen: an Attio number attribute retyped to text failed every later run ("Altering columns
    is not supported"). The column is widened, to text when nothing narrower holds both; the
    values already loaded are kept."""
    _, tuned = schemas
    number = {"tier": {"type": ["number", "null"]}, "count": {"type": ["integer", "null"]}}
    assert load(stack, TUNED, tuned, tmp_path, typed("deals", number, [{"id": "a", "tier": 3.5, "count": 2}])).returncode == 0
    retyped = {"tier": {"type": ["string", "null"]}, "count": {"type": ["number", "null"]}}
    done = load(stack, TUNED, tuned, tmp_path, typed("deals", retyped, [{"id": "b", "tier": "Gold", "count": 2.5}]))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "deals.tier: the source changed its type" in done.stderr and "widened to TEXT" in done.stderr
    assert stack.sql(f"select id, tier, count from {tuned}.deals order by id") == [
        ("a", "3.5", 2), ("b", "Gold", 2.5)]
    # and back: a text column stays text, a number arrives as its text
    again = load(stack, TUNED, tuned, tmp_path, typed("deals", number, [{"id": "c", "tier": 4, "count": 1}]))
    assert again.returncode == 0, again.stderr[-3000:]
    assert stack.scalar(f"select tier from {tuned}.deals where id = 'c'") == "4"


def test_a_name_postgres_would_cut_short_stops_the_run_naming_the_stream(stack, schemas, tmp_path):
    _, tuned = schemas
    long_column = "renewal_" * 9
    done = load(stack, TUNED, tuned, tmp_path, typed("deals", {long_column: {"type": ["string", "null"]}}, [{"id": "a"}]))
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert f"stream 'deals': the name '{long_column}' is 72 bytes, longer than PostgreSQL's 63" in last, last
    long_stream = "list_entries_" + "quarterly_renewals_" * 3
    done = load(stack, TUNED, tuned, tmp_path, typed(long_stream, {}, [{"id": "a"}]))
    assert done.returncode == 1 and f"stream '{long_stream}'" in done.stderr.strip().splitlines()[-1]


def test_a_tombstone_marks_its_row_deleted_and_keeps_its_last_values(stack, schemas, tmp_path):
    """A record of only its key and _sdc_deleted_at (tap-shopify's deletion events): upserted like
    any record it would null every other column."""
    _, tuned = schemas
    assert load(stack, TUNED, tuned, tmp_path, messages(RECORDS)).returncode == 0
    lines = [{"type": "SCHEMA", "stream": "things", "schema": SCHEMA, "key_properties": ["id"]},
             {"type": "RECORD", "stream": "things", "record": {**RECORDS[1], "note": "changed, then deleted"}},
             {"type": "RECORD", "stream": "things", "record": {**RECORDS[1], "id": "d"}},
             {"type": "RECORD", "stream": "things", "record": {"id": "b", "_sdc_deleted_at": "2026-11-30T10:00:00+00:00"}},
             {"type": "RECORD", "stream": "things", "record": {"id": "a", "_sdc_deleted_at": "2026-11-30T11:00:00+00:00"}},
             {"type": "RECORD", "stream": "things", "record": {"id": "never-loaded", "_sdc_deleted_at": "2026-11-30T11:00:00+00:00"}}]
    # (on a server whose sessions default to another time zone than UTC: a deletion's stamps must
    # still be UTC, as COPY writes them, or the incremental models would miss the deletion)
    done = load(stack, TUNED, tuned, tmp_path, "\n".join(json.dumps(line) for line in lines) + "\n",
                env={"PGTZ": "America/New_York"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stream 'things': 3 tombstones, 2 rows marked deleted" in done.stderr  # one was never loaded
    assert stack.sql(f"select id, note, amount, _sdc_deleted_at is not null from {tuned}.things order by id") == [
        ("a", AWKWARD, Decimal("12.345"), True), ("b", "changed, then deleted", None, True), ("c", "", Decimal("-0.5"), False),
        ("d", None, None, False)]
    assert stack.scalar(f"select _sdc_deleted_at from {tuned}.things where id = 'a'").isoformat().startswith("2026-11-30T11:00")
    # the marking is a write of this run: _sdc_batched_at moves with it (the vendor's deletion time is
    # days old), which is how an incremental model finds the row to drop (macros/incremental.sql)
    batched = dict(stack.sql(f"select id, _sdc_batched_at from {tuned}.things"))
    assert batched["a"] > batched["c"]  # c: first load only; a: loaded then, marked deleted now
    assert batched["a"] == batched["b"] == batched["d"]  # one batch: marked (UPDATE) or written (COPY) alike


def test_settings_that_would_hide_changes_from_the_models_are_refused(stack, schemas, tmp_path):
    _, tuned = schemas
    for setting, value in (("hard_delete", True), ("add_record_metadata", False)):
        done = load(stack, TUNED, tuned, tmp_path, messages(RECORDS), **{setting: value})
        assert done.returncode != 0
        assert f"TARGET_POSTGRES_{setting.upper()}={str(value).lower()} is not supported here" in done.stderr
    assert stack.scalar("select count(*) from information_schema.tables where table_schema = %s", (tuned,)) == 0


HOSTILE_COLUMNS = [
    "select", "order by", 'quote"inside', "semi;colon", "back\\slash", "dollar$$quoted$$", "ünïcødé ✓", "per%cent",
    "colon:name", "id\") FROM PROGRAM 'touch {canary}' --",
]


def test_hostile_stream_and_property_names_land_as_names_and_execute_nothing(stack, schemas, tmp_path):
    """Names come from vendors' data (anyone who can name an Attio attribute or a GA4 custom
    definition). The stock COPY wrapped them in double quotes without escaping, so a property named
    `id") FROM PROGRAM '...' --` ran a shell command on the database server; its ADD COLUMN took
    schema and table names raw; a stream `x-people` loaded into the table `people`."""
    _, tuned = schemas
    canary_file = Path(f"/tmp/canary-{os.getpid()}")  # short: the name must fit PostgreSQL's 63 bytes
    canary_file.unlink(missing_ok=True)
    columns = [name.format(canary=canary_file) for name in HOSTILE_COLUMNS]
    with psycopg.connect(**warehouse(stack), autocommit=True) as conn:
        conn.execute(f"create schema if not exists {tuned}")
        conn.execute(f"create table {tuned}.canary (n int)")
        conn.execute(f"create table {tuned}.people (n int)")
    streams = ['x"; drop table canary; --', "x-people"]
    for stream in streams:
        first = typed(stream, {"note": {"type": ["string", "null"]}}, [{"id": "a", "note": "first"}])
        assert load(stack, TUNED, tuned, tmp_path, first).returncode == 0
        # a second run adds the hostile columns to the existing table (schema evolution's ADD COLUMN)
        second = typed(stream, {c: {"type": ["string", "null"]} for c in ["note", *columns]},
                       [{"id": "b", "note": "second", **{c: f"value of {c}" for c in columns}}])
        done = load(stack, TUNED, tuned, tmp_path, second)
        assert done.returncode == 0, done.stderr[-3000:]
    assert not canary_file.exists(), "a name ran a command on the database server"
    assert stack.scalar(f"select count(*) from {tuned}.canary") == 0 and stack.scalar(f"select count(*) from {tuned}.people") == 0
    landed = {name for (name,) in stack.sql(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (tuned, streams[0]))}
    assert set(columns) <= landed
    for stream in streams:
        assert stack.scalar(f'select count(*) from {tuned}."{stream.replace(chr(34), chr(34) * 2)}"') == 2
    evil = columns[-1]
    assert stack.scalar(f'select "{evil.replace(chr(34), chr(34) * 2)}" from {tuned}."x-people" where id = %s', ("b",)) == \
        f"value of {evil}"


def test_nul_characters_on_the_stock_path_follow_the_same_rule(stack, schemas, tmp_path):
    """A column type only the stock sink writes (or use_copy off) takes its path: the rule holds."""
    _, tuned = schemas
    record = {**RECORDS[1], "id": "n", "note": "a\x00b", "tags": ["c\x00"]}
    done = load(stack, TUNED, tuned, tmp_path, messages([record]), use_copy=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert stack.sql(f"select note, tags from {tuned}.things") == [("a\ufffdb", ["c\ufffd"])]
    assert "stream 'things': 2 NUL characters (U+0000) replaced with U+FFFD" in done.stderr
