"""Our tuned target-postgres lands exactly what the stock meltanolabs target lands, only faster.

Both run from the loader's Meltano venv on the same Singer messages into the test warehouse:
awkward strings (backslashes, quotes, tabs, newlines, braces, unicode), nulls inside arrays,
nested objects and arrays of objects (jsonb[]), dates, numbers. Then re-loads upsert, and an
invalid record stops the load with one line naming the stream, the field and the fix.
"""

from __future__ import annotations

import json
import subprocess
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


def load(stack, executable, schema: str, tmp_path, text: str) -> subprocess.CompletedProcess:
    config = tmp_path / f"{schema}.json"
    w = warehouse(stack)
    config.write_text(json.dumps({
        "host": w["host"], "port": w["port"], "user": w["user"], "password": w["password"],
        "database": w["dbname"], "default_target_schema": schema, "use_copy": True, "add_record_metadata": True}))
    return subprocess.run([str(executable), "--config", str(config)], input=text, text=True, capture_output=True,
                          timeout=300)


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
