"""Attio attribute values → typed columns.

Every Attio attribute holds a LIST of value objects; the current ones have `active_until: null`.
For each attribute (from GET /objects/{object}/attributes or /lists/{list}/attributes) this
module plans the columns that carry its current value, and compiles one small function that
fills them from a record's `values`. The raw `values` stay in their own column, so history and
fields not flattened are never lost.

| attribute type   | column `<col>`                  | extra columns                           |
|------------------|---------------------------------|-----------------------------------------|
| text, number, checkbox, date, timestamp, rating | `value`          |                                         |
| personal-name    | `full_name`                     | `<col>__first_name`, `<col>__last_name` |
| email-address    | `email_address`                 |                                         |
| domain           | `domain`                        |                                         |
| phone-number     | `original_phone_number`         |                                         |
| currency         | `currency_value`                | `<col>__currency_code`                  |
| status           | `status.title`                  |                                         |
| select           | `option.title`                  |                                         |
| record-reference | `target_record_id`              | `<col>__target_object`                  |
| actor-reference  | `referenced_actor_id`           | `<col>__actor_type`                     |
| location         | object (line_1 … longitude)     |                                         |
| interaction      | `interacted_at`                 | `<col>__interaction_type`               |
| anything else    | the current value object(s)     |                                         |

Column names are a function of the attribute alone, never of the order Attio lists attributes in,
so a name means one attribute for the life of that attribute (the taps' one name policy,
tributary_tap_support/names.py): `<col>` is the slug
itself when it is a plain identifier (lower-case letters, digits, single underscores) of at most
45 bytes that no fixed column uses; any other slug (non-ASCII, punctuation, too long, a fixed
column's name) becomes its plain form cut short plus 8 hex digits of the attribute's id. Extra
columns take a double underscore, which no plain slug has, so an extra never meets an attribute's
column. A slug deleted and re-created (a new attribute id) as another type keeps the plain name
when it is plain: the loader then widens the column (see load/target-postgres-wrapper).

Multi-valued attributes (`is_multiselect`) give arrays (empty when unset), the others a scalar
(null when unset). Timestamps are cut from Attio's nine fractional digits to six (what
PostgreSQL and Python keep anyway); the raw `values` column keeps all nine.
"""
from __future__ import annotations

import typing as t

from tributary_tap_support.names import stable_name

Extractor = t.Callable[[list, dict], None]

NULL_STRING = {"type": ["string", "null"]}
LOCATION_FIELDS = ("line_1", "line_2", "line_3", "line_4", "locality", "region", "postcode",
                   "country_code", "latitude", "longitude")
SCALAR_TYPES = {
    "text": {"type": ["string", "null"]},
    "number": {"type": ["number", "null"]},
    "checkbox": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "timestamp": {"type": ["string", "null"], "format": "date-time"},
    "rating": {"type": ["integer", "null"]},
}
# attribute type -> (field holding the main value, nested key or None, main column schema)
MAIN_FIELD = {
    "personal-name": ("full_name", None, NULL_STRING),
    "email-address": ("email_address", None, NULL_STRING),
    "domain": ("domain", None, NULL_STRING),
    "phone-number": ("original_phone_number", None, NULL_STRING),
    "currency": ("currency_value", None, {"type": ["number", "null"]}),
    "status": ("status", "title", NULL_STRING),
    "select": ("option", "title", NULL_STRING),
    "record-reference": ("target_record_id", None, NULL_STRING),
    "actor-reference": ("referenced_actor_id", None, NULL_STRING),
    "interaction": ("interacted_at", None, {"type": ["string", "null"], "format": "date-time"}),
}
# attribute type -> [(column suffix, field in the value object, schema)]
EXTRA_FIELDS = {
    "personal-name": [("first_name", "first_name", NULL_STRING), ("last_name", "last_name", NULL_STRING)],
    "currency": [("currency_code", "currency_code", NULL_STRING)],
    "record-reference": [("target_object", "target_object", NULL_STRING)],
    "actor-reference": [("actor_type", "referenced_actor_type", NULL_STRING)],
    "interaction": [("interaction_type", "interaction_type", NULL_STRING)],
}
TIMESTAMP_FIELDS = {"interacted_at"}


def ts(value: t.Any) -> t.Any:
    """'2024-03-01T10:11:12.123456789Z' -> '2024-03-01T10:11:12.123456Z' (other shapes unchanged)."""
    if isinstance(value, str) and len(value) > 27 and value[19] == "." and value[-1] == "Z":
        return value[:26] + "Z"
    return value


MAIN_COLUMN_BYTES = 45  # room for the longest extra column suffix, "__interaction_type", within 63 bytes


def attribute_id(attr: dict) -> str:
    """The attribute's id, as the attributes endpoint gives it (or as our attributes stream does)."""
    return attr.get("attribute_id") or (attr.get("id") or {}).get("attribute_id") or attr["api_slug"]


def nullable_array(items: dict) -> dict:
    item_types = items["type"] if isinstance(items["type"], list) else [items["type"]]
    return {"type": ["array", "null"], "items": {**items, "type": [x for x in item_types if x != "null"] or ["string"]}}


def location_schema() -> dict:
    return {"type": ["object", "null"], "properties": {f: NULL_STRING for f in LOCATION_FIELDS}}


def _make_extractor(kind: str, multi: bool, col: str, extras: list[tuple[str, str]]) -> Extractor:
    """Compile the function that writes this attribute's current value(s) into `out`."""
    if kind in SCALAR_TYPES:
        fix = ts if kind == "timestamp" else None

        def pick(v: dict) -> t.Any:
            x = v.get("value")
            return fix(x) if fix else x
    elif kind == "location":
        def pick(v: dict) -> t.Any:
            return {f: v.get(f) for f in LOCATION_FIELDS}
    elif kind in MAIN_FIELD:
        field, nested, _ = MAIN_FIELD[kind]
        if nested:
            def pick(v: dict) -> t.Any:
                inner = v.get(field)
                return inner.get(nested) if isinstance(inner, dict) else None
        elif field in TIMESTAMP_FIELDS:
            def pick(v: dict) -> t.Any:
                return ts(v.get(field))
        else:
            def pick(v: dict) -> t.Any:
                return v.get(field)
    else:  # unknown type: keep the value object minus the bookkeeping fields
        def pick(v: dict) -> t.Any:
            return {k: x for k, x in v.items() if k not in ("active_from", "active_until", "created_by_actor")}

    if multi:
        def extract(values: list, out: dict) -> None:
            if not values:
                out[col] = []
                for ecol, _ in extras:
                    out[ecol] = []
                return
            cur = [v for v in values if v.get("active_until") is None]
            out[col] = [pick(v) for v in cur]
            for ecol, efield in extras:
                out[ecol] = [v.get(efield) for v in cur]
    else:
        def extract(values: list, out: dict) -> None:
            last = None
            if values:
                # fast path: one value, current (most attributes of most records)
                if len(values) == 1:
                    if values[0].get("active_until") is None:
                        last = values[0]
                else:
                    for v in values:
                        if v.get("active_until") is None:
                            last = v
            if last is None:
                out[col] = None
                for ecol, _ in extras:
                    out[ecol] = None
                return
            out[col] = pick(last)
            for ecol, efield in extras:
                out[ecol] = last.get(efield)
    return extract


class ValuesPlan:
    """Columns and extractors for one object's (or list's) attributes."""

    def __init__(self, attributes: list[dict], reserved: set[str], skip: set[str] = frozenset()) -> None:
        self.properties: dict[str, dict] = {}
        self.extractors: list[tuple[str, Extractor]] = []
        self.columns_of: dict[str, list[str]] = {}
        taken = set(reserved)

        def claim(name: str) -> str:
            if name in taken:  # two attributes' names met (a plain slug equal to a hashed name)
                raise ValueError(f"attributes {sorted(a['api_slug'] for a in attributes)}: two would share "
                                 f"the column {name!r}; rename one of them in Attio")
            taken.add(name)
            return name

        for attr in attributes:
            slug = attr["api_slug"]
            if slug in skip:
                continue
            kind = attr.get("type") or ""
            multi = bool(attr.get("is_multiselect"))
            col = claim(stable_name(slug, attribute_id(attr), MAIN_COLUMN_BYTES, taken=reserved))
            if kind in SCALAR_TYPES:
                schema = SCALAR_TYPES[kind]
            elif kind == "location":
                schema = location_schema()
            elif kind in MAIN_FIELD:
                schema = MAIN_FIELD[kind][2]
            else:
                schema = {"type": ["object", "null"]}
            self.properties[col] = nullable_array(schema) if multi else dict(schema)
            extras = []
            for suffix, field, eschema in EXTRA_FIELDS.get(kind, []):
                ecol = claim(f"{col}__{suffix}")
                self.properties[ecol] = nullable_array(eschema) if multi else dict(eschema)
                extras.append((ecol, field))
            self.columns_of[slug] = [col, *(e for e, _ in extras)]
            self.extractors.append((slug, _make_extractor(kind, multi, col, extras)))

    def fill(self, values: dict, out: dict) -> dict:
        get = values.get
        for slug, extract in self.extractors:
            extract(get(slug), out)
        return out
