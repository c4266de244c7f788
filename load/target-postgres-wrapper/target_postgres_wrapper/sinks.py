"""Our PostgreSQL sink: the meltanolabs one, with validation and COPY made cheap.

Everything else (table creation and evolution, the temp-table merge on key properties,
ACTIVATE_VERSION, record metadata) is the stock sink's, unchanged.
"""

from __future__ import annotations

import typing as t

import sqlalchemy
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from target_postgres.sinks import PostgresSink

from target_postgres_wrapper.copy_rows import field_converter
from target_postgres_wrapper.validation import record_validator

COPY_CHUNK_ROWS = 2_000  # rows per write to the COPY stream: bounded memory, few calls


class TunedPostgresSink(PostgresSink):
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """The SDK's documented hook: same checks, compiled once per stream (see validation.py)."""
        if not self.validate_schema:
            return None
        return record_validator(self.schema, self.stream_name)

    def _do_copy(
        self,
        connection: sqlalchemy.engine.Connection,
        copy_statement: str,
        columns: list[sqlalchemy.Column],
        data_to_copy: list[dict[str, t.Any]],
    ) -> None:
        converters = [field_converter(column.type) for column in columns]
        if any(convert is None for convert in converters):
            # a column type only the stock sink knows how to write (bytea): its path, unchanged
            super()._do_copy(connection, copy_statement, columns, data_to_copy)
            return
        names = [column.name for column in columns]
        pairs = list(zip(names, converters))
        with connection.connection.cursor().copy(copy_statement) as copy:
            lines: list[str] = []
            for row in data_to_copy:
                lines.append("\t".join([convert(row[name]) for name, convert in pairs]))
                if len(lines) >= COPY_CHUNK_ROWS:
                    copy.write("\n".join(lines) + "\n")
                    lines.clear()
            if lines:
                copy.write("\n".join(lines) + "\n")
