"""Our PostgreSQL sink: the meltanolabs one, with validation, COPY and the merge made cheap.

Everything else (table creation and evolution, the temp-table merge on key properties,
ACTIVATE_VERSION, record metadata, the settings) is the stock sink's, unchanged. Each override
falls back to the stock method where its shortcut does not apply.

Guards the stock sink lacks, each a loud stop or a documented rule instead of silent harm:
  * NUL characters, which PostgreSQL cannot store, are replaced with U+FFFD and counted per
    stream in the log (copy_rows.py);
  * a full listing far smaller than the table (vendor incident, permissions changed, another
    workspace) would mark most rows deleted at ACTIVATE_VERSION: above `max_deletion_share` of the
    live rows the deletions are not applied and the run fails naming the stream and the counts;
  * a column whose type the source changed (a number attribute retyped to text) is widened, to
    the type both fit or else to text, values kept (the stock connector fails every later run:
    "Altering columns is not supported");
  * a stream or property name longer than PostgreSQL's 63 bytes (which it would cut short,
    silently, so two names could meet) stops the run naming the stream and the name.

Every table a run wrote to is analyzed at the end of its stream (`clean_up`), so the models and
tests that read it next are planned on its statistics, not on autovacuum's timing: right after a
first load PostgreSQL has none, and the planner then picked nested loops that re-read the orders'
JSON for every row (the shopify job's tests took 156 s instead of 0.2 s; bench/RESULTS.md).

`_sdc_batched_at` says when the loader last wrote a change to a row: stamped as the batch is
written (the SDK stamps when the batch's first record arrived), kept when a row is re-sent
unchanged, moved by a deletion. dbt's incremental models rebuild what it says changed.

A tombstone, a record holding only its key and `_sdc_deleted_at` (the Singer convention for a
deletion a tap learnt of: tap-shopify's deletion events), marks the row deleted and keeps its last
values; upserted like any record it would have nulled every other column.
"""

from __future__ import annotations

import datetime
import time
import typing as t

import sqlalchemy
import sqlalchemy.types as sqltypes
from singer_sdk.helpers._compat import date_fromisoformat, datetime_fromisoformat, time_fromisoformat
from singer_sdk.helpers._typing import get_datelike_property_type, handle_invalid_timestamp_in_record
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from psycopg import sql
from sqlalchemy.dialects import postgresql
from target_postgres.connector import PostgresConnector
from target_postgres.sinks import PostgresSink

from target_postgres_wrapper import copy_rows
from target_postgres_wrapper.copy_rows import field_converter
from target_postgres_wrapper.validation import record_validator

COPY_CHUNK_ROWS = 2_000  # rows per write to the COPY stream: bounded memory, few calls
PARSERS = {"date-time": datetime_fromisoformat, "date": date_fromisoformat, "time": time_fromisoformat}
DEFAULT_MAX_DELETION_SHARE = 0.5
DELETION_GUARD_FLOOR_ROWS = 5  # fewer deletions than this never trip the guard (tiny tables)


class DeletionGuardError(Exception):
    """A full listing would mark more of a table deleted than `max_deletion_share` allows."""


def max_deletion_share(config: dict) -> float:
    return float(config.get("max_deletion_share", DEFAULT_MAX_DELETION_SHARE))


IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1


class NameTooLongError(Exception):
    """A table or column name PostgreSQL would cut short."""


class WideningPostgresConnector(PostgresConnector):
    """A column whose type the source changed is widened, never left to fail every later run (the
    stock connector: "Altering columns is not supported") nor narrowed: integer to numeric when a
    number arrives, anything else to text (which holds every value's text form).

    Names are vendors' data (an Attio attribute, a GA4 custom definition), so every identifier
    this connector writes into SQL is quoted by the dialect (embedded quotes doubled): the stock
    ADD COLUMN text took the schema and table names raw, so a stream named with a quote could
    end the statement and start another (to report upstream: README, Security)."""

    def quoted_table(self, schema_name: str, table_name: str) -> str:
        quote = self._engine.dialect.identifier_preparer.quote
        return f"{quote(schema_name)}.{quote(table_name)}"

    def get_column_add_ddl(self, table_name: str, schema_name: str, column_name: str,
                           column_type: t.Any) -> sqlalchemy.DDL:
        column = sqlalchemy.Column(column_name, column_type)
        statement = (f"alter table {self.quoted_table(schema_name, table_name)} add column "
                     f"{column.compile(dialect=self._engine.dialect)} {column.type.compile(dialect=self._engine.dialect)}")
        return sqlalchemy.DDL(statement)

    def holds(self, current: t.Any, new: t.Any) -> bool:
        """Can a column of type `current` take values of type `new` as they are?"""
        compiled = [kind.compile(dialect=self._engine.dialect) for kind in (current, new)]
        if compiled[0] == compiled[1] or isinstance(current, (sqltypes.String, sqltypes.Text)):
            return True  # (compiled, an array's element type counts: bigint[] is not text[])
        if isinstance(current, sqltypes.Numeric) and not isinstance(current, sqltypes.Integer):
            return isinstance(new, (sqltypes.Integer, sqltypes.Numeric))
        return isinstance(current, sqltypes.Integer) and isinstance(new, sqltypes.Integer)

    def _adapt_column_type(self, schema_name: str, table_name: str, column_name: str, sql_type: t.Any,
                           connection: sqlalchemy.engine.Connection, column_object: t.Any) -> None:
        current = column_object.type if column_object is not None else self._get_column_type(
            schema_name=schema_name, table_name=table_name, column_name=column_name, connection=connection)
        if self.holds(current, sql_type):
            return
        numbers = (sqltypes.Integer, sqltypes.Numeric)
        widened = "numeric" if isinstance(current, numbers) and isinstance(sql_type, numbers) else "text"
        column = self._engine.dialect.identifier_preparer.quote(column_name)
        connection.execute(sqlalchemy.DDL(
            f"alter table {self.quoted_table(schema_name, table_name)} alter column {column} "
            f"type {widened} using {column}::{widened}"))
        self.logger.warning("%s.%s.%s: the source changed its type from %s to %s; the column is widened to %s, "
                            "its values kept", schema_name, table_name, column_name, current, sql_type, widened.upper())


class TunedPostgresSink(PostgresSink):
    connector_class = WideningPostgresConnector

    @property
    def table_name(self) -> str:
        """The stream's own name: the SDK would take `x-people` as schema `x`, table `people`, and so
        load one stream onto another's table."""
        return self.stream_name

    def generate_copy_statement(self, full_table_name: t.Any, columns: list) -> sql.Composed:
        """COPY with every name quoted by psycopg: the stock text wraps names in double quotes
        without doubling the quotes inside them, so a property named `x") FROM PROGRAM '…' --`
        ran a shell command on the database server."""
        # (both callers pass the temporary table's own name, which has no schema part)
        return sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(str(full_table_name)), sql.SQL(", ").join(sql.Identifier(column.name) for column in columns))

    def setup(self) -> None:
        too_long = [name for name in (self.table_name, *self.schema.get("properties", {}))
                    if len(name.encode()) > IDENTIFIER_BYTES]
        if too_long:
            raise NameTooLongError(
                f"stream '{self.stream_name}': the name {too_long[0]!r} is {len(too_long[0].encode())} bytes, longer than "
                f"PostgreSQL's {IDENTIFIER_BYTES}, which would cut it short (and two cut names can meet). Fix: the "
                "tap must name it within 63 bytes (our taps do: a long name is cut with a hash of its id).")
        super().setup()

    # -- validation --------------------------------------------------------------------------------
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """The SDK's documented hook: same checks, compiled once per stream (see validation.py)."""
        if not self.validate_schema:
            return None
        return record_validator(self.schema, self.stream_name)

    def _parse_timestamps_in_record(self, record: dict, schema: dict, treatment: t.Any) -> None:
        """The SDK's date/time parsing, with the schema's date-like properties looked up once per
        stream instead of once per field of every record (same parsing, same repair treatment)."""
        plan = self.__dict__.get("_timestamp_plan")
        if plan is None or plan[0] is not schema:
            datelike = {key: kind for key, prop in schema["properties"].items()
                        if (kind := get_datelike_property_type(prop))}
            plan = (schema, frozenset(schema["properties"]), datelike, schema.get("additionalProperties", False))
            self._timestamp_plan = plan
        _, known, datelike, additional_properties = plan
        if not additional_properties:
            for key in record.keys() - known:
                if record[key] is not None and key not in self._warned_missing_fields:
                    self.logger.warning("No schema for record field '%s'", key)
                    self._warned_missing_fields.add(key)
        for key, kind in datelike.items():
            value = record.get(key)
            if value is None or not isinstance(value, str):
                continue
            try:
                record[key] = PARSERS.get(kind, datetime_fromisoformat)(value)
            except ValueError as error:
                record[key] = handle_invalid_timestamp_in_record(record, [key], value, kind, error, treatment,
                                                                 self.logger)

    # -- tombstones ----------------------------------------------------------------------------------
    def is_tombstone(self, record: dict) -> bool:
        return record.get("_sdc_deleted_at") is not None and all(
            key in self.key_properties or key.startswith("_sdc_") for key in record)

    def process_batch(self, context: dict) -> None:
        self.table_written = True
        records = context["records"]
        # _sdc_batched_at: when the batch is written. The SDK stamps the moment its first record
        # arrived, up to 5 minutes (its max batch age) before the batch commits, so a dbt build in
        # between would see later stamps first; the incremental models find what a load changed by
        # this column (transform/macros/incremental/incremental.sql), so it must follow the writes.
        written_at = datetime.datetime.now(datetime.timezone.utc)
        if self.include_sdc_metadata_properties:
            for record in records:
                record["_sdc_batched_at"] = written_at
        tombstones = [record for record in records if self.is_tombstone(record)] if self.key_properties else []
        if not tombstones:
            super().process_batch(context)
            return
        rows = [record for record in records if not self.is_tombstone(record)]
        if rows:
            super().process_batch({**context, "records": rows})
        with self.connector._connect() as connection, connection.begin():
            if not self.connector.table_exists(self.full_table_name):
                return  # nothing was ever loaded: nothing to mark
            table = sqlalchemy.Table(self.table_name, sqlalchemy.MetaData(), autoload_with=connection,
                                     schema=self.schema_name)
            same_key = [table.c[key] == sqlalchemy.bindparam(f"key_{key}") for key in self.key_properties]
            if self.config.get("hard_delete"):
                statement = sqlalchemy.delete(table).where(*same_key)
            else:
                deleted_at = self.table_column(table, self.soft_delete_column_name, "tombstones mark rows deleted")
                marks = {deleted_at: sqlalchemy.bindparam("deleted_at")}
                if "_sdc_batched_at" in table.c:
                    # _sdc_batched_at says when the loader last wrote the row; the deletion is such a
                    # write (its own time is the vendor's, maybe days old), and the incremental models
                    # find the rows to rebuild by it (transform/macros/incremental/incremental.sql).
                    marks[table.c["_sdc_batched_at"]] = sqlalchemy.bindparam("batched_at")
                statement = sqlalchemy.update(table).where(*same_key, deleted_at.is_(None)).values(marks)
            marked = 0
            for record in tombstones:
                marked += connection.execute(statement, {
                    "deleted_at": record["_sdc_deleted_at"], "batched_at": record.get("_sdc_batched_at"),
                    **{f"key_{key}": record[key] for key in self.key_properties}}).rowcount
        self.logger.info("stream '%s': %d tombstones, %d rows marked deleted", self.stream_name, len(tombstones), marked)

    def table_column(self, table: sqlalchemy.Table, name: str, why: str) -> sqlalchemy.Column:
        column = table.c.get(name)
        if column is None:
            raise DeletionGuardError(
                f"stream '{self.stream_name}': the table has no column {name}, and {why}. Fix: keep the "
                "loader's add_record_metadata setting true (meltano.yml sets it).")
        return column

    # -- deletions -----------------------------------------------------------------------------------
    def activate_version(self, new_version: int) -> None:
        """The stock ACTIVATE_VERSION (rows of older versions marked deleted), once the guard has
        counted what it would delete against the live rows."""
        self.table_written = True
        if self.config.get("activate_version") is not False and self._pending_batch:
            # the stock method drains first too; the guard must count the rows this listing sent
            self.process_batch(self.start_drain())
            self.mark_drained()
        if self.config.get("activate_version") is not False and self.connector.table_exists(self.full_table_name):
            self.guard_deletions(new_version)
        super().activate_version(new_version)

    def guard_deletions(self, new_version: int) -> None:
        share = max_deletion_share(self.config)
        if share >= 1:
            return
        with self.connector._connect() as connection:
            table = sqlalchemy.Table(self.table_name, sqlalchemy.MetaData(), autoload_with=connection.engine,
                                     schema=self.schema_name)
            version = self.table_column(table, self.version_column_name, "ACTIVATE_VERSION needs it")
            soft_deleted = table.c.get(self.soft_delete_column_name)
            live = soft_deleted.is_(None) if soft_deleted is not None and not self.config.get("hard_delete") \
                else sqlalchemy.true()
            older = sqlalchemy.or_(version.is_(None), version < new_version)
            live_rows, leaving = connection.execute(
                sqlalchemy.select(sqlalchemy.func.count(), sqlalchemy.func.count().filter(older)).where(live)).one()
        if leaving >= DELETION_GUARD_FLOOR_ROWS and leaving > share * live_rows:
            raise DeletionGuardError(
                f"stream '{self.stream_name}': this full listing would mark {leaving:,} of the table's "
                f"{live_rows:,} live rows deleted ({leaving / live_rows:.0%}, above max_deletion_share "
                f"{share:g}); no row was marked deleted. A vendor incident, changed permissions or another "
                f"account can look like this: check the source. If the deletions are real, accept them "
                f"for one run with TARGET_POSTGRES_MAX_DELETION_SHARE=1 meltano run ...")

    # -- the run's log --------------------------------------------------------------------------------
    def clean_up(self) -> None:
        if getattr(self, "nul_replaced", 0):
            self.logger.warning(
                "stream '%s': %d NUL characters (U+0000) replaced with U+FFFD: PostgreSQL text cannot "
                "hold them", self.stream_name, self.nul_replaced)
        if getattr(self, "table_written", False):
            self.analyze_table()
        super().clean_up()

    def analyze_table(self) -> None:
        """Fresh statistics for the rows this run wrote, before dbt plans its queries on them."""
        if not self.connector.table_exists(self.full_table_name):
            return
        started = time.perf_counter()
        with self.connector._connect() as connection, connection.begin():
            connection.execute(sqlalchemy.text(f"analyze {self.connector.quoted_table(self.schema_name, self.table_name)}"))
        self.logger.info("stream '%s': table analyzed in %.2f s", self.stream_name, time.perf_counter() - started)

    # -- COPY ----------------------------------------------------------------------------------------
    def bulk_insert_records(  # type: ignore[override]
        self,
        table: sqlalchemy.Table,
        schema: dict[str, t.Any],
        records: t.Iterable[dict[str, t.Any]],
        primary_keys: t.Sequence[str],
        connection: sqlalchemy.engine.Connection,
    ) -> int | None:
        """Records straight to COPY text lines (copy_rows.py), keeping the last record per key as
        the stock sink does, without its intermediate dict per record."""
        columns = self.column_representation(schema)
        converters = [field_converter(column.type) for column in columns]
        replaced_before = copy_rows.NUL_REPLACED[0]
        if not self.config.get("use_copy") or None in converters:
            # the stock path (a type only it writes): the same NUL rule, applied to the records first
            records = [copy_rows.without_nul(record) for record in records]
            self.nul_replaced = getattr(self, "nul_replaced", 0) + copy_rows.NUL_REPLACED[0] - replaced_before
            return super().bulk_insert_records(table, schema, records, primary_keys, connection)
        if not self.append_only:
            latest: dict[tuple, dict] = {}
            for record in records:
                latest[tuple(record[key] for key in primary_keys)] = record
            records = latest.values()
        pairs = [(column.name, convert) for column, convert in zip(columns, converters)]
        copy_statement = self.generate_copy_statement(table.name, columns)
        self.logger.info("Inserting with COPY into %s (%d columns)", table.name, len(columns))
        with connection.connection.cursor().copy(copy_statement) as copy:
            lines: list[str] = []
            for record in records:
                get = record.get
                lines.append("\t".join([convert(get(name)) for name, convert in pairs]))
                if len(lines) >= COPY_CHUNK_ROWS:
                    copy.write("\n".join(lines) + "\n")
                    lines.clear()
            if lines:
                copy.write("\n".join(lines) + "\n")
        self.nul_replaced = getattr(self, "nul_replaced", 0) + copy_rows.NUL_REPLACED[0] - replaced_before
        return True

    # -- merge ---------------------------------------------------------------------------------------
    def upsert(
        self,
        from_table: sqlalchemy.Table,
        to_table: sqlalchemy.Table,
        schema: dict[str, t.Any],
        join_keys: t.Sequence[str],
        connection: sqlalchemy.engine.Connection,
    ) -> int | None:
        """One INSERT ... ON CONFLICT DO UPDATE instead of the stock INSERT of new keys followed by
        an UPDATE of every key: a first load writes each row once instead of twice (no dead row
        per record). Needs the table's primary key to be exactly the key properties, which is how
        the target creates tables; otherwise the stock merge runs."""
        primary_key = {column.name for column in to_table.primary_key.columns}
        if self.append_only or not join_keys or primary_key != set(join_keys):
            return super().upsert(from_table, to_table, schema, join_keys, connection)
        names = [column.name for column in from_table.columns]
        insert = postgresql.insert(to_table).from_select(names, sqlalchemy.select(*from_table.columns))
        updated = [name for name in self.schema["properties"] if name not in join_keys]
        if updated:
            values = {name: insert.excluded[name] for name in updated}
            if "_sdc_batched_at" in values:
                values["_sdc_batched_at"] = self.batched_at_if_changed(to_table, insert, updated)
            statement = insert.on_conflict_do_update(index_elements=list(join_keys), set_=values)
        else:
            statement = insert.on_conflict_do_nothing(index_elements=list(join_keys))
        connection.execute(statement)
        return None

    @staticmethod
    def batched_at_if_changed(to_table: sqlalchemy.Table, insert: t.Any, updated: list[str]) -> t.Any:
        """A row re-sent unchanged keeps its _sdc_batched_at: the column says when the loader last
        wrote a change to the row (a new row, new values, a deletion or a return from one). Sources
        that re-send everything on every run (Attio) then show what really changed, which the
        incremental models rebuild (transform/macros/incremental/); the other columns, the table
        version that ACTIVATE_VERSION reads included, are written as before."""
        compared = [name for name in updated if not name.startswith("_sdc_") or name == "_sdc_deleted_at"]
        if not compared:
            return insert.excluded["_sdc_batched_at"]
        # compared as text: 2 and 2.0 (numeric or inside jsonb) are equal values but not the same
        # row, and the models must see the new form as a full rebuild would
        def as_text(columns: list) -> t.Any:
            return sqlalchemy.cast(sqlalchemy.func.row(*columns), sqlalchemy.Text)

        changed = as_text([to_table.c[name] for name in compared]).is_distinct_from(
            as_text([insert.excluded[name] for name in compared]))
        return sqlalchemy.case((changed, insert.excluded["_sdc_batched_at"]), else_=to_table.c["_sdc_batched_at"])
