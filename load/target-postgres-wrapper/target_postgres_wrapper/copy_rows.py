"""COPY rows written as PostgreSQL's text format, one fast converter per column type.

The stock sink hands every value to SQLAlchemy's bind processor and then to psycopg's
`write_row`, whose list dumper builds array literals element by element in Python (and runs a
regex per element): ~45% of the loader's time once validation is cheap, most of it on nested
arrays of objects (jsonb[]). Here each column gets one converter chosen once from its SQL type,
JSON is written by msgspec (C), and a row is one `"\t".join(...)`.

Text format rules (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2):
`\\N` is NULL; backslash, newline, carriage return and tab inside a value are backslash-escaped.
Array literals (https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO) quote each
element, backslash-escaping `"` and `\\` inside it, and spell a NULL element NULL.

PostgreSQL's text and jsonb cannot hold the NUL character (U+0000): COPY fails the whole batch
(`invalid byte sequence ... 0x00`, `unsupported Unicode escape sequence`) on every run, naming no
stream. Our rule, the one the stock target's `sanitize_null_text_characters` applies: each NUL is
replaced with U+FFFD (the replacement character), and counted (`NUL_REPLACED`) for the run's log.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

import msgspec
import simplejson
import sqlalchemy.types as sqltypes
from sqlalchemy.dialects import postgresql
from target_postgres.connector import NOTYPE

NULL = "\\N"
NUL, REPLACEMENT = "\x00", "\ufffd"
NUL_REPLACED = [0]  # NULs replaced so far in this process; the sink reports its stream's share
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
# decimals stay JSON numbers, as the stock sink (simplejson use_decimal) writes them
_json = msgspec.json.Encoder(decimal_format="number", enc_hook=str)


def copy_text(value: str) -> str:
    """A string as one COPY text field."""
    # five substring tests are ~3x faster than one regex search on the short strings most fields
    # hold, and this runs for every text field of every record
    if "\\" in value or "\n" in value or "\t" in value or "\r" in value or NUL in value:
        if NUL in value:
            NUL_REPLACED[0] += value.count(NUL)
            value = value.replace(NUL, REPLACEMENT)
        return value.translate(_COPY_ESCAPES)
    return value


# In encoded JSON a NUL is the escape \u0000, preceded by an even number of backslashes (an odd
# number means the backslash itself was escaped and "u0000" is plain text)
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _json_without_nul(encoded: str) -> str:
    if "\\u0000" not in encoded:
        return encoded
    replaced, count = _JSON_NUL.subn(lambda match: match.group(1) + "\\ufffd", encoded)
    NUL_REPLACED[0] += count
    return replaced


def without_nul(value: t.Any) -> t.Any:
    """`value` with every NUL in its strings (keys included, at any depth) replaced, counted: the
    rule for records that take the stock sink's path instead of these converters."""
    if isinstance(value, str):
        if NUL in value:
            NUL_REPLACED[0] += value.count(NUL)
            return value.replace(NUL, REPLACEMENT)
        return value
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def json_text(value: t.Any) -> str:
    # msgspec escapes control characters inside JSON strings, so only backslashes need doubling
    return _json_without_nul(_json.encode(value).decode()).replace("\\", "\\\\")


def _array_element(text: str) -> str:
    """One quoted array element, escaped for the array literal and then for COPY."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar_text(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return _json.encode(value).decode()
    return str(value)


def text_field(value: t.Any) -> str:
    if value is None:
        return NULL
    return copy_text(value if isinstance(value, str) else _scalar_text(value))


def untyped_field(value: t.Any) -> str:
    """A column the schema gives no type (text): objects and arrays as the stock sink's NOTYPE
    writes them, simplejson's spaced separators included, so the stored text is the same."""
    if isinstance(value, (dict, list)):
        return copy_text(_json_without_nul(simplejson.dumps(value, use_decimal=True)))
    return text_field(value)


def json_field(value: t.Any) -> str:
    return NULL if value is None else json_text(value)


def bool_field(value: t.Any) -> str:
    if value is None:
        return NULL
    return "t" if value else "f"


def number_field(value: t.Any) -> str:
    return NULL if value is None else str(value)


def temporal_field(value: t.Any) -> str:
    if value is None:
        return NULL
    # the SDK has parsed date-times into datetime objects (whose ISO form needs no escaping);
    # an unparseable one stays text
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return copy_text(str(value))


def json_array_field(value: t.Any) -> str:
    """jsonb[]: an array literal of JSON texts."""
    if value is None:
        return NULL
    if not isinstance(value, list):
        value = [value]
    encode = _json.encode
    parts = ["NULL" if item is None else _array_element(_json_without_nul(encode(item).decode())) for item in value]
    return ("{" + ",".join(parts) + "}").replace("\\", "\\\\")


def scalar_array_field(value: t.Any) -> str:
    """text[], bigint[], ...: an array literal of the elements' text forms."""
    if value is None:
        return NULL
    if not isinstance(value, list):
        value = [value]
    parts = ["NULL" if item is None else _array_element(_scalar_text(item)) for item in value]
    return copy_text("{" + ",".join(parts) + "}")


def field_converter(sql_type: sqltypes.TypeEngine) -> t.Callable[[t.Any], str] | None:
    """The converter for a column of this type, or None when only the stock path knows it."""
    if isinstance(sql_type, postgresql.ARRAY):
        item = sql_type.item_type
        if isinstance(item, postgresql.JSONB):
            return json_array_field
        if isinstance(item, (sqltypes.String, sqltypes.Integer, sqltypes.Numeric, sqltypes.Boolean)) and not isinstance(
            item, NOTYPE
        ):
            return scalar_array_field
        return None
    if isinstance(sql_type, (postgresql.JSONB, sqltypes.JSON)):
        return json_field
    if isinstance(sql_type, NOTYPE):
        return untyped_field
    if isinstance(sql_type, sqltypes.Boolean):
        return bool_field
    if isinstance(sql_type, (sqltypes.Integer, sqltypes.Numeric)):
        return number_field
    if isinstance(sql_type, (sqltypes.DateTime, sqltypes.Date, sqltypes.Time)):
        return temporal_field
    if isinstance(sql_type, (sqltypes.String, postgresql.UUID, sqltypes.Uuid)):
        return text_field
    return None  # bytea (HexByteString) and anything new: the stock path
