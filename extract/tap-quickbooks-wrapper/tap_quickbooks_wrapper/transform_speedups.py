"""Speed-ups of the community tap's record handling, giving the same records byte for byte.

The tap (unmodified) runs every record through singer-python's Transformer. A profile of a first
load (266,000 records at the 1M benchmark's scale; `bench/RESULTS.md`) put most of the tap's CPU,
and so most of the QuickBooks job's wall time, in two places:
  * the tap asks its stream's Schema for `to_dict()` once per record (tap_quickbooks/sync.py), and
    that walks the whole nested schema again each time: a third of the tap's time. The schema
    does not change during a run, so each Schema's dict is made once and reused;
  * each date-time value is parsed by dateutil's general parser (singer.utils.strptime_to_utc): a
    quarter of the tap's time. QuickBooks sends ISO 8601 (2026-03-04T10:11:12-08:00, or a date),
    which the standard library parses directly; any other text still goes to dateutil, so every
    value becomes what it became before.
With those two gone, the Transformer's own walk was most of what remained (three quarters of the
tap's time in a profile at quickbooks=8): for every value of every record it asks the schema again
which types it allows (in which order, with which format), builds a path list and a success pair,
and walks each record a second time to look up field metadata nested fields never have. So:
  * each schema is read once into a tree of small functions (`compiled`), one per schema node,
    doing what the Transformer does for that node's types in its order (null last);
  * the metadata filter walks only into fields whose breadcrumbs have metadata below them.
A field the schema lacks (QuickBooks sends `sparse` and `domain` with every entity) is dropped and
noted under its path, as the library does. Anything out of the ordinary (patternProperties, a time
that does not parse, a nested value no type fits, a Transformer with a pre_hook or integer times)
sends the whole record through the library's own code, so its logs, errors and results are the
library's. (The one thing not kept: a Transformer's `errors` list, which the library fills as an
anyOf alternative fails even when a later one fits, stays empty on a record that transforms; the
tap reads it only on a record that fails, which the library then walks itself.)
`tests/test_quickbooks_wrapper.py` holds all of them to the library's own results.
"""
from __future__ import annotations

import datetime as dt
import decimal
import importlib
import re

import pytz
from singer import Transformer
from singer.schema import Schema

# (the module: `singer.transform` is the function of that name singer's package exports)
TRANSFORM_MODULE = importlib.import_module("singer.transform")

# What QuickBooks sends: a date, or a date and time to the second (a fraction of up to 6 digits)
# with Z or an offset, or none.
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?)?",
                           re.ASCII)


def strptime_to_utc(value, library_parse=TRANSFORM_MODULE.strptime_to_utc):
    """singer.utils.strptime_to_utc's result (an aware UTC datetime, a naive time taken as UTC),
    through the standard library for the ISO shapes above, through dateutil for anything else."""
    if isinstance(value, str) and ISO_DATE_TIME.fullmatch(value):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:   # e.g. February 30th: dateutil's error, as before
            return library_parse(value)
        return parsed.replace(tzinfo=pytz.UTC) if parsed.tzinfo is None else parsed.astimezone(pytz.UTC)
    return library_parse(value)


def schema_dict_made_once(to_dict):
    made: dict[int, tuple[Schema, dict]] = {}

    def to_dict_once(self):
        known = made.get(id(self))   # (made keeps each Schema alive, so no other takes its id)
        if known is None:
            known = made[id(self)] = (self, to_dict(self))
        return known[1]
    return to_dict_once


# -- the Transformer's walk, compiled once per schema -----------------------------------------------
FAILED = object()   # no type of the node fits the value: its parent tries its next type


class LeaveItToTheLibrary(Exception):
    """Something the library logs or reports on its way (a time it cannot parse, a failure inside
    an object or array, patternProperties): the record goes through the library's code instead."""


# Each compiled node is `(value, where) -> transformed value or FAILED`, as
# Transformer.transform_recur(value, schema, path). `where` is the path, built only for objects and
# arrays as a chain (where, key or index) ending in the Transformer's `removed` set: a field the
# schema lacks is dropped and noted there under its dotted path, as the library notes it.
def compiled(schema: dict):
    if "anyOf" in schema:
        return _first_fitting([compiled(subschema) for subschema in schema["anyOf"]], unwalked=[])
    if "type" not in schema:
        return _unchanged
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    in_order = _null_last(list(types))
    # The library moves null last in the schema itself, each time it walks the node; an error
    # message shows those lists. So the schema's list is reordered the first time the node is
    # walked, as the library would have, not before.
    unwalked = [types] if in_order != types else []
    attempts = [_for_type(typ, schema) for typ in in_order]
    if len(attempts) == 2:   # nearly every node: ["<type>", "null"]
        first, second = attempts

        def either(value, where):
            if unwalked:
                _null_last(unwalked.pop())
            result = first(value, where)
            return second(value, where) if result is FAILED else result
        return either
    return _first_fitting(attempts, unwalked)


def _first_fitting(attempts: list, unwalked: list):
    """The first attempt's result that is not FAILED (a node's types, or anyOf's alternatives)."""
    def first_fitting(value, where):
        if unwalked:
            _null_last(unwalked.pop())
        for attempt in attempts:
            result = attempt(value, where)
            if result is not FAILED:
                return result
        return FAILED
    return first_fitting


def _null_last(types: list) -> list:
    """What Transformer.transform_recur does to a node's list of types."""
    if "null" in types:
        types.remove("null")
        types.append("null")
    return types


def _for_type(typ, schema: dict):
    """As Transformer._transform(value, typ, schema, path), for a Transformer without a pre_hook."""
    if typ == "null":
        return _null
    if schema.get("format") == "date-time":
        return _date_time
    if schema.get("format") == "singer.decimal":
        return _decimal
    if typ == "object":
        return _object(schema.get("properties", {}), schema.get("patternProperties"))
    if typ == "array":
        return _array(schema["items"]) if "items" in schema else _leave_it
    for name, attempt in (("string", _string), ("integer", _integer), ("number", _number), ("boolean", _boolean)):
        if typ == name:
            return attempt
    return _never


def _object(properties: dict, pattern_properties):
    if pattern_properties:
        return _leave_it
    if properties == {}:
        return lambda value, where: value if isinstance(value, dict) else FAILED
    fields = {name: compiled(subschema) for name, subschema in properties.items()}
    nested = {name for name, subschema in properties.items() if _may_hold_fields(subschema)}

    def each_field(value, where):
        if not isinstance(value, dict):
            return FAILED
        result = {}
        for key, field_value in value.items():
            field = fields.get(key)
            if field is None:
                _note_removed(where, key)
                continue
            transformed = field(field_value, (where, key) if key in nested else None)
            if transformed is FAILED:   # the library goes on through the other fields
                raise LeaveItToTheLibrary
            result[key] = transformed
        return result
    return each_field


def _array(items_schema: dict):
    item = compiled(items_schema)
    nested = _may_hold_fields(items_schema)

    def each_item(value, where):
        if not isinstance(value, list):
            return FAILED
        result = []
        for index, element in enumerate(value):
            transformed = item(element, (where, index) if nested else None)
            if transformed is FAILED:
                raise LeaveItToTheLibrary
            result.append(transformed)
        return result
    return each_item


def _may_hold_fields(schema) -> bool:
    """Whether an object or array may be under this node (its path is then needed)."""
    return isinstance(schema, dict) and ("anyOf" in schema or "object" in _types(schema) or "array" in _types(schema))


def _types(schema: dict) -> list:
    types = schema.get("type", [])
    return types if isinstance(types, list) else [types]


def _note_removed(where, key) -> None:
    path = [key]
    while isinstance(where, tuple):
        where, step = where
        path.append(step)
    where.add(".".join(map(str, reversed(path))))   # the chain ends in the `removed` set


def _unchanged(value, where):
    return value


def _null(value, where):
    return None if value is None or value == "" else FAILED


def _date_time(value, where):
    if value is None or value == "":
        return FAILED
    try:   # the library's string_to_datetime, leaving its warning to the library
        return TRANSFORM_MODULE.strftime(TRANSFORM_MODULE.strptime_to_utc(value))
    except Exception:
        raise LeaveItToTheLibrary from None


def _decimal(value, where):
    if isinstance(value, (str, float, int)):
        try:
            return str(decimal.Decimal(str(value)))
        except Exception:
            return FAILED
    if isinstance(value, decimal.Decimal):
        try:
            return "NaN" if value.is_snan() else str(value)
        except Exception:
            return FAILED
    return FAILED


def _string(value, where):
    if value is None:
        return FAILED
    try:
        return str(value)
    except Exception:
        return FAILED


def _parsed_by(convert):
    """An integer's or a number's attempt: text loses its thousands commas first."""
    def attempt(value, where):
        if isinstance(value, str):
            value = value.replace(",", "")
        try:
            return convert(value)
        except Exception:
            return FAILED
    return attempt


_integer, _number = _parsed_by(int), _parsed_by(float)


def _boolean(value, where):
    if isinstance(value, str) and value.lower() == "false":
        return False
    try:
        return bool(value)
    except Exception:
        return FAILED


def _never(value, where):
    return FAILED


def _leave_it(value, where):
    raise LeaveItToTheLibrary


def filter_by_metadata(transformer: Transformer, data, metadata: dict):
    """Transformer.filter_data_by_metadata(data, metadata), walking only into the fields whose
    breadcrumbs have metadata below them (where the library's walk would find none, it changes
    nothing). Drops the same fields, in place, and notes them as filtered as the library does."""
    if not metadata or not isinstance(data, dict):   # (the tap sends a dict: a list is the library's)
        return transformer.filter_data_by_metadata(data, metadata)
    # the breadcrumbs of fields with metadata deeper down (top-level fields' have none)
    below = {breadcrumb[:end] for breadcrumb in metadata if len(breadcrumb) > 2 for end in range(2, len(breadcrumb))}
    return _filter(transformer, data, metadata, below, ())


def _filter(transformer, data, metadata, below, parent):
    if isinstance(data, dict):
        for field_name in list(data.keys()):
            breadcrumb = parent + ("properties", field_name)
            entry = metadata.get(breadcrumb, {})
            inclusion = entry.get("inclusion")
            if inclusion == "automatic":
                continue
            if entry.get("selected") is False or inclusion == "unsupported":
                data.pop(field_name, None)
                transformer.filtered.add(TRANSFORM_MODULE.breadcrumb_path(breadcrumb))
            elif breadcrumb in below:
                data[field_name] = _filter(transformer, data[field_name], metadata, below, breadcrumb)
    elif isinstance(data, list) and parent + ("items",) in below:
        data = [_filter(transformer, element, metadata, below, parent + ("items",)) for element in data]
    return data


def transform_compiled(library_transform):
    made: dict[int, tuple[dict, object]] = {}

    def transform(self, data, schema, metadata=None):
        if self.pre_hook is not None or self.integer_datetime_fmt != TRANSFORM_MODULE.NO_INTEGER_DATETIME_PARSING:
            return library_transform(self, data, schema, metadata)
        known = made.get(id(schema))   # (made keeps each schema alive, so no other takes its id)
        if known is None:
            try:
                known = made[id(schema)] = (schema, compiled(schema))
            except Exception:   # a schema the library reads only as far as each value goes
                known = made[id(schema)] = (schema, _leave_it)
        data = filter_by_metadata(self, data, metadata)
        try:
            result = known[1](data, self.removed)
        except LeaveItToTheLibrary:
            result = FAILED
        if result is FAILED:   # filtering again changes nothing: the library then does the rest
            return library_transform(self, data, schema, metadata)
        return result
    return transform


def install() -> None:
    """Before the tap starts (guarded_tap.run)."""
    Schema.to_dict = schema_dict_made_once(Schema.to_dict)
    TRANSFORM_MODULE.strptime_to_utc = strptime_to_utc   # the name transform.py parses with
    Transformer.transform = transform_compiled(Transformer.transform)
