"""Tributary's target-postgres: the meltanolabs target (0.8.1) with a faster sink and reader.

A subclass, not a fork: settings, table handling and merge logic are the stock target's. What
changes is where the profile showed the time going (bench/target_postgres.py, bench/RESULTS.md):
  * record validation: compiled once per stream by fastjsonschema (validation.py) instead of
    the SDK's jsonschema walk, through the SDK's `Sink.get_validator` hook;
  * COPY rows: written as text by one converter per column type (copy_rows.py);
  * message parsing: the SDK's msgspec reader (singer_sdk.contrib.msgspec) instead of simplejson.
"""

from __future__ import annotations

from singer_sdk.contrib.msgspec import MsgSpecReader
from target_postgres.target import TargetPostgres

from target_postgres_wrapper.sinks import TunedPostgresSink


class TributaryTargetPostgres(TargetPostgres):
    default_sink_class = TunedPostgresSink
    message_reader_class = MsgSpecReader
