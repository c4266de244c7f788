"""Two speed-ups of the community tap's record handling, giving the same records byte for byte.

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
`tests/test_quickbooks_wrapper.py` holds both to the library's own results.
"""
from __future__ import annotations

import datetime as dt
import importlib
import re

import pytz
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


def install() -> None:
    """Before the tap starts (guarded_tap.run)."""
    Schema.to_dict = schema_dict_made_once(Schema.to_dict)
    TRANSFORM_MODULE.strptime_to_utc = strptime_to_utc   # the name transform.py parses with
