"""Tributary's target-postgres: the meltanolabs target (0.8.1) with a faster sink and reader.

A subclass, not a fork: settings, table handling and merge logic are the stock target's. What
changes is where the profile showed the time going (bench/target_postgres.py, bench/RESULTS.md):
  * record validation: compiled once per stream by fastjsonschema (validation.py) instead of
    the SDK's jsonschema walk, through the SDK's `Sink.get_validator` hook;
  * COPY rows: written as text by one converter per column type (copy_rows.py);
  * message parsing: the SDK's msgspec reader (singer_sdk.contrib.msgspec) instead of simplejson,
    fed by a thread that keeps reading the tap's output while a batch is written (read_ahead.py);
  * PostgreSQL compresses large values (TOAST) with lz4 instead of pglz (session_settings below).
"""

from __future__ import annotations

import os
import sys
import typing as t

import sqlalchemy
from singer_sdk.contrib.msgspec import MsgSpecReader
from target_postgres.target import TargetPostgres

from target_postgres_wrapper.read_ahead import ReadAhead
from target_postgres_wrapper.sinks import DEFAULT_MAX_DELETION_SHARE, TunedPostgresSink


@sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
def session_settings(dbapi_connection: t.Any, _record: t.Any) -> None:
    """The session's time zone is UTC: the _sdc_* stamps are timestamp without time zone, and a
    stamp bound as a parameter (a tombstone, ACTIVATE_VERSION's deletion time) would otherwise be
    converted to the server's local time while COPY writes UTC, hours apart, and the incremental
    models would miss the deletion (transform/macros/incremental/).

    Wide records (Attio's raw `values`, ~2.5 kB of JSON each) are TOAST-compressed as they are
    written; PostgreSQL's default pglz was ~20% of the server's CPU for Attio people, lz4 (14+)
    costs a fraction of it for the same stored values. A server without lz4 keeps its default."""
    dbapi_connection.execute("set timezone = 'UTC'")
    dbapi_connection.commit()
    try:
        dbapi_connection.execute("set default_toast_compression = 'lz4'")
    except Exception:  # noqa: BLE001 - older server or built without lz4: nothing to change
        dbapi_connection.rollback()
    else:
        dbapi_connection.commit()


class TributaryTargetPostgres(TargetPostgres):
    default_sink_class = TunedPostgresSink
    message_reader_class = MsgSpecReader
    config_jsonschema = {
        **TargetPostgres.config_jsonschema,
        "properties": {
            **TargetPostgres.config_jsonschema["properties"],
            "max_deletion_share": {
                "type": ["number"], "minimum": 0, "maximum": 1, "default": DEFAULT_MAX_DELETION_SHARE,
                "description": "The largest share of a table's live rows one full listing (ACTIVATE_VERSION) may "
                               "mark deleted; above it the run fails and marks none. 1 accepts any.",
            },
        },
    }

    def listen(self, file_input: t.IO[str] | None = None) -> None:
        # stdin (the tap's pipe) read ahead by a thread; an --input file is read as the SDK does.
        # TRIBUTARY_LOADER_READ_AHEAD=0 reads stdin as the SDK does too (to measure the difference).
        if file_input is None and os.environ.get("TRIBUTARY_LOADER_READ_AHEAD", "1") != "0":
            file_input = ReadAhead(sys.stdin.fileno())
        super().listen(file_input)
