"""Record validation through fastjsonschema, plugged in with the SDK's `Sink.get_validator` hook.

The SDK validates every record with `jsonschema`, which walks the schema in Python for every
record and every nested array element: about 60% of the loader's time on order-like records.
fastjsonschema compiles the schema once into a Python function, so the same checks (types,
required keys, enums, nested objects and arrays) cost a fraction of that. Formats stay unchecked,
as in the SDK (`Sink.validate_field_string_format` is False), and defaults are never written into
records (`use_default=False`): validation only reads.
"""

from __future__ import annotations

import typing as t

import fastjsonschema
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator, JSONSchemaValidator


def describe(value: t.Any) -> str:
    """The JSON type of a value, never the value itself (records can hold personal data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class CompiledRecordValidator(BaseJSONSchemaValidator):
    """Validates a stream's records with its schema compiled once by fastjsonschema."""

    def __init__(self, schema: dict[str, t.Any], stream_name: str) -> None:
        super().__init__(schema)
        self.stream_name = stream_name
        self._check = fastjsonschema.compile(schema, use_formats=False, use_default=False)

    def validate(self, record: dict[str, t.Any]) -> None:
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException as error:
            # error.name is the path into the record ("data.lineItems[0].quantity")
            field = error.name[len("data."):] if error.name.startswith("data.") else error.name
            problem = error.message[len(error.name) + 1:] if error.message.startswith(error.name) else error.message
            message = (
                f"stream '{self.stream_name}', field '{field}': {problem.strip()}, got {describe(error.value)}. "
                "Fix: the tap's schema and its records disagree - correct the tap (or its schema "
                "override in the extractor's `schema:` extra), or set validate_records: false to load "
                "the record unchecked."
            )
            raise InvalidRecord(message, record) from None


def record_validator(schema: dict[str, t.Any], stream_name: str) -> BaseJSONSchemaValidator:
    """fastjsonschema when it can compile the schema, else the SDK's own validator (still validating)."""
    try:
        return CompiledRecordValidator(schema, stream_name)
    except fastjsonschema.JsonSchemaDefinitionException:
        # fastjsonschema knows drafts 4, 6 and 7; anything else keeps the SDK's jsonschema path
        return JSONSchemaValidator(schema)
