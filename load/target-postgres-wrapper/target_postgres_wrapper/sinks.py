"""Our PostgreSQL sink: the meltanolabs one, with validation, COPY and the merge made cheap.

Everything else (table creation and evolution, the temp-table merge on key properties,
ACTIVATE_VERSION, record metadata, the settings) is the stock sink's, unchanged. Each override
falls back to the stock method where its shortcut does not apply.
"""

from __future__ import annotations

import typing as t

import sqlalchemy
from singer_sdk.helpers._compat import date_fromisoformat, datetime_fromisoformat, time_fromisoformat
from singer_sdk.helpers._typing import get_datelike_property_type, handle_invalid_timestamp_in_record
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from sqlalchemy.dialects import postgresql
from target_postgres.sinks import PostgresSink

from target_postgres_wrapper.copy_rows import field_converter
from target_postgres_wrapper.validation import record_validator

COPY_CHUNK_ROWS = 2_000  # rows per write to the COPY stream: bounded memory, few calls
PARSERS = {"date-time": datetime_fromisoformat, "date": date_fromisoformat, "time": time_fromisoformat}


class TunedPostgresSink(PostgresSink):
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
        if not self.config.get("use_copy") or self.connector.sanitize_null_text_characters or None in converters:
            return super().bulk_insert_records(table, schema, records, primary_keys, connection)
        if not self.append_only:
            latest: dict[tuple, dict] = {}
            for record in records:
                latest[tuple(record[key] for key in primary_keys)] = record
            records = latest.values()
        pairs = [(column.name, convert) for column, convert in zip(columns, converters)]
        copy_statement = self.generate_copy_statement(table.name, columns)
        self.logger.info("Inserting with SQL: %s", copy_statement)
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
            statement = insert.on_conflict_do_update(
                index_elements=list(join_keys), set_={name: insert.excluded[name] for name in updated})
        else:
            statement = insert.on_conflict_do_nothing(index_elements=list(join_keys))
        connection.execute(statement)
        return None
