"""What a GA4 report answers: the dimension and metric catalogue, the request as Google's clients
send it, and the query engine (aggregation, filters, ordering, "(other)" rows, thresholding,
sampling). No routes here: api.py serves it.

Requests are read as Google's clients send them over REST: proto-JSON with lowerCamel names (the
proto's snake_case names are accepted too), int64 fields as strings (`"limit": "100000"`), enums as
names or numbers. Unknown fields answer 400 `Invalid JSON payload received. Unknown name "x"`.
Every value in an answer is a string, `date` is YYYYMMDD, an empty report has no `rows` (and no
`rowCount`), errors are Google's `{"error": {"code", "message", "status"}}`.

Three fact tables decide what can be combined: session-scoped (every session dimension/metric),
events (`eventName` + event metrics) and items (`itemName`, `itemId`, `itemCategory` + item
metrics); mixing event and item fields answers 400 "...incompatible".

Data-loss signals. A report with more than `other_row_limit` rows for one date (default 250)
keeps the largest `limit-1` and folds the rest into one "(other)" row (`metadata.
dataLossFromOtherRow: true`). A report with a user metric and a demographic dimension (country,
city) is `subjectToThresholding: true` and withholds rows with fewer than 3 users. With
`sampling_above_days` set, reports spanning more days carry `samplingMetadatas`.

Quota tokens charged per runReport (api.py keeps the budgets):
    5 + 2 * ceil(days in the date ranges / 7) + ceil(rows in the returned page / 1000)
      + 2 if a dimension or metric filter is used
so a one-day report costs 8, a 7-day report of 1,500 rows 9, a 365-day one 111+.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import math
import re
from typing import Any, Callable

from aiohttp import web

from .data import (DAY_NAMES, S_BROWSER, S_CAMPAIGN, S_CHANNEL, S_CITY, S_COUNTRY, S_COUPON, S_CTYPE, S_DATE,
                   S_DEVICE, S_DURATION, S_ENGAGED, S_EVENTS, S_GROUP, S_KEY, S_LP, S_LPQ, S_MEDIUM, S_NEW,
                   S_ORDER, S_SOURCE, S_USER, S_VIEWS, TIME_ZONE, Sessions)

MAX_DIMENSIONS, MAX_METRICS = 9, 10
DEFAULT_LIMIT, MAX_LIMIT = 10_000, 250_000
OTHER_ROW_LIMIT = 250
THRESHOLD_USERS = 3
ANSWER_CACHE_BYTES = 256 * 1024 * 1024
KEY_EVENTS = ("purchase", "generate_lead")


# ---- errors: Google's, raised here, by the routes (api.py) and by the token checks (auth.py) -------
class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message

    def response(self) -> web.Response:
        return google_error(self.code, self.status, self.message)


def google_error(code: int, status: str, message: str) -> web.Response:
    return web.Response(status=code, content_type="application/json",
                        text=json.dumps({"error": {"code": code, "message": message, "status": status}}))


def bad(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


# ---- the dimension and metric catalogue ----------------------------------------------------------
def _city(s, x):
    return s[S_CITY]


DIMENSIONS: dict[str, tuple] = {
    # name: (scope, getter(session, sub-fact), uiName, category)
    "date": ("session", lambda s, x: s[S_DATE], "Date", "Time"),
    "dayOfWeekName": ("session", lambda s, x: DAY_NAMES[s[S_DATE]], "Day of week name", "Time"),
    "sessionSource": ("session", lambda s, x: s[S_SOURCE], "Session source", "Traffic source"),
    "sessionMedium": ("session", lambda s, x: s[S_MEDIUM], "Session medium", "Traffic source"),
    "sessionSourceMedium": ("session", lambda s, x: f"{s[S_SOURCE]} / {s[S_MEDIUM]}", "Session source / medium",
                            "Traffic source"),
    "sessionCampaignName": ("session", lambda s, x: s[S_CAMPAIGN], "Session campaign", "Traffic source"),
    "sessionDefaultChannelGroup": ("session", lambda s, x: s[S_CHANNEL], "Session default channel group",
                                   "Traffic source"),
    "firstUserDefaultChannelGroup": ("session", lambda s, x: s[S_CHANNEL], "First user default channel group",
                                     "Traffic source"),
    "landingPage": ("session", lambda s, x: s[S_LP], "Landing page", "Page / screen"),
    "landingPagePlusQueryString": ("session", lambda s, x: s[S_LPQ], "Landing page + query string",
                                   "Page / screen"),
    "contentGroup": ("session", lambda s, x: s[S_GROUP], "Content group", "Page / screen"),
    "deviceCategory": ("session", lambda s, x: s[S_DEVICE], "Device category", "Platform / device"),
    "browser": ("session", lambda s, x: s[S_BROWSER], "Browser", "Platform / device"),
    "country": ("session", lambda s, x: s[S_COUNTRY], "Country", "Geography"),
    "city": ("session", _city, "City", "Geography"),
    "newVsReturning": ("session", lambda s, x: "new" if s[S_NEW] else "returning", "New / returning", "User"),
    "customUser:customer_type": ("session", lambda s, x: s[S_CTYPE], "Customer type", "Custom"),
    "customEvent:content_group": ("session", lambda s, x: s[S_GROUP], "Content group (custom)", "Custom"),
    "eventName": ("event", lambda s, x: x[0], "Event name", "Event"),
    "isKeyEvent": ("event", lambda s, x: "true" if x[0] in KEY_EVENTS else "false", "Is key event", "Event"),
    "itemName": ("item", lambda s, x: x[0], "Item name", "Ecommerce"),
    "itemId": ("item", lambda s, x: x[1], "Item ID", "Ecommerce"),
    "itemCategory": ("item", lambda s, x: x[2], "Item category", "Ecommerce"),
    "transactionId": ("purchase", lambda s, x: str(1001 + s[S_ORDER].idx) if s[S_ORDER] else "(not set)",
                      "Transaction ID", "Ecommerce"),
}
CUSTOM = {"customUser:customer_type", "customEvent:content_group", "customEvent:coupon_value"}
THRESHOLD_DIMENSIONS = {"country", "city", "customUser:customer_type"}
USER_METRICS = {"totalUsers", "activeUsers", "newUsers", "sessionsPerUser", "eventCountPerUser"}


def _order_total(s, x):
    return s[S_ORDER].total / 100 if s[S_ORDER] else 0


def _has_order(s, x):
    return 1 if s[S_ORDER] else 0


# metric: {table: spec}; spec = ("sum", getter) | ("users", predicate|None) | ("ratio", num, den, transform)
METRICS: dict[str, tuple[str, str, dict]] = {
    # name: (type, uiName, {table: spec})
    "sessions": ("TYPE_INTEGER", "Sessions", {"session": ("sum", lambda s, x: 1)}),
    "engagedSessions": ("TYPE_INTEGER", "Engaged sessions", {"session": ("sum", lambda s, x: s[S_ENGAGED])}),
    "screenPageViews": ("TYPE_INTEGER", "Views", {"session": ("sum", lambda s, x: s[S_VIEWS])}),
    "userEngagementDuration": ("TYPE_SECONDS", "User engagement", {"session": ("sum", lambda s, x: s[S_DURATION])}),
    "newUsers": ("TYPE_INTEGER", "New users", {"session": ("sum", lambda s, x: s[S_NEW])}),
    "totalUsers": ("TYPE_INTEGER", "Total users", {"session": ("users", None), "event": ("users", None),
                                                   "item": ("users", None)}),
    "activeUsers": ("TYPE_INTEGER", "Active users", {"session": ("users", lambda s, x: s[S_ENGAGED]),
                                                     "event": ("users", lambda s, x: s[S_ENGAGED])}),
    "keyEvents": ("TYPE_FLOAT", "Key events", {"session": ("sum", lambda s, x: s[S_KEY]),
                                               "event": ("sum", lambda s, x: x[1] if x[0] in KEY_EVENTS else 0)}),
    "conversions": ("TYPE_FLOAT", "Conversions (deprecated: use keyEvents)",
                    {"session": ("sum", lambda s, x: s[S_KEY]),
                     "event": ("sum", lambda s, x: x[1] if x[0] in KEY_EVENTS else 0)}),
    "eventCount": ("TYPE_INTEGER", "Event count", {"session": ("sum", lambda s, x: sum(c for _, c in s[S_EVENTS])),
                                                   "event": ("sum", lambda s, x: x[1])}),
    "ecommercePurchases": ("TYPE_INTEGER", "Ecommerce purchases", {"session": ("sum", _has_order)}),
    "transactions": ("TYPE_INTEGER", "Transactions", {"session": ("sum", _has_order)}),
    "totalRevenue": ("TYPE_CURRENCY", "Total revenue", {"session": ("sum", _order_total)}),
    "purchaseRevenue": ("TYPE_CURRENCY", "Purchase revenue", {"session": ("sum", _order_total)}),
    "itemsPurchased": ("TYPE_INTEGER", "Items purchased", {"item": ("sum", lambda s, x: x[3])}),
    "itemRevenue": ("TYPE_CURRENCY", "Item revenue", {"item": ("sum", lambda s, x: x[3] * x[4] / 100)}),
    "engagementRate": ("TYPE_FLOAT", "Engagement rate",
                       {"session": ("ratio", "engagedSessions", "sessions", lambda v: v)}),
    "bounceRate": ("TYPE_FLOAT", "Bounce rate", {"session": ("ratio", "engagedSessions", "sessions", lambda v: 1 - v)}),
    "averageSessionDuration": ("TYPE_SECONDS", "Average session duration",
                               {"session": ("ratio", "userEngagementDuration", "sessions", lambda v: v)}),
    "screenPageViewsPerSession": ("TYPE_FLOAT", "Views per session",
                                  {"session": ("ratio", "screenPageViews", "sessions", lambda v: v)}),
    "sessionsPerUser": ("TYPE_FLOAT", "Sessions per user", {"session": ("ratio", "sessions", "totalUsers", lambda v: v)}),
    "eventCountPerUser": ("TYPE_FLOAT", "Event count per user",
                          {"event": ("ratio", "eventCount", "totalUsers", lambda v: v),
                           "session": ("ratio", "eventCount", "totalUsers", lambda v: v)}),
    "customEvent:coupon_value": ("TYPE_CURRENCY", "Coupon value (custom)",
                                 {"session": ("sum", lambda s, x: s[S_COUPON] / 100)}),
}


def metadata_json(property_id: str, metric_types: dict[str, str] | None = None,
                  dimensions: dict[str, tuple] | None = None) -> dict:
    """The property's metadata; `metric_types` overrides custom metrics' types (units changed),
    `dimensions` is the property's dimensions when custom ones were registered."""
    metric_types = metric_types or {}
    dims, mets = [], []
    for name, (_scope, _g, ui, cat) in (dimensions or DIMENSIONS).items():
        d = {"apiName": name, "uiName": ui, "description": f"{ui}.", "category": cat}
        if name in CUSTOM or cat == "Custom":
            d["customDefinition"] = True
        dims.append(d)
    for name, (type_, ui, _tables) in METRICS.items():
        m = {"apiName": name, "uiName": ui, "description": f"{ui}.", "type": metric_types.get(name, type_),
             "category": "Custom" if name in CUSTOM else "General"}
        if name in CUSTOM:
            m["customDefinition"] = True
        if name == "conversions":
            m["deprecatedApiNames"] = []
        mets.append(m)
    if property_id == "0":   # universal metadata: no custom definitions
        dims = [d for d in dims if not d.get("customDefinition")]
        mets = [m for m in mets if not m.get("customDefinition")]
    return {"name": f"properties/{property_id}/metadata", "dimensions": dims, "metrics": mets}


# ---- request parsing (proto-JSON as Google's client libraries send it) ---------------------------
REQUEST_FIELDS = {"property", "dimensions", "metrics", "dateRanges", "dimensionFilter", "metricFilter", "offset",
                  "limit", "metricAggregations", "orderBys", "currencyCode", "cohortSpec", "keepEmptyRows",
                  "returnPropertyQuota", "comparisons"}
COMPATIBILITIES = {0: "COMPATIBILITY_UNSPECIFIED", 1: "COMPATIBLE", 2: "INCOMPATIBLE"}
MATCH_TYPES = {1: "EXACT", 2: "BEGINS_WITH", 3: "ENDS_WITH", 4: "CONTAINS", 5: "FULL_REGEXP", 6: "PARTIAL_REGEXP"}
NUMERIC_OPS = {1: "EQUAL", 2: "LESS_THAN", 3: "LESS_THAN_OR_EQUAL", 4: "GREATER_THAN", 5: "GREATER_THAN_OR_EQUAL"}
ORDER_TYPES = {1: "ALPHANUMERIC", 2: "CASE_INSENSITIVE_ALPHANUMERIC", 3: "NUMERIC"}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def normalize(obj: Any) -> Any:
    """snake_case proto names -> lowerCamel (proto-JSON accepts both)."""
    if isinstance(obj, dict):
        return {_camel(k): normalize(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [normalize(v) for v in obj]
    return obj


def _int64(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and value != int(value):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise bad(f'Invalid value at \'{field}\' (TYPE_INT64), "{value}"') from None


def _enum(value: Any, names: dict, field: str, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        if value in names:
            return names[value]
    elif isinstance(value, str) and value in names.values():
        return value
    raise bad(f'Invalid value at \'{field}\', "{value}"')


def parse_date(text: Any, today: dt.date) -> dt.date | None:
    """YYYY-MM-DD, NdaysAgo, yesterday or today (relative to the property's today); None if neither."""
    if not isinstance(text, str):
        return None
    if text == "today":
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    m = re.fullmatch(r"(\d+)daysAgo", text)
    if m:
        return today - dt.timedelta(days=int(m.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _date(text: Any, today: dt.date, field: str) -> dt.date:
    d = parse_date(text, today)
    if d is None:
        raise bad(f"Invalid {field}: {text!r}. Dates must be YYYY-MM-DD, NdaysAgo, yesterday, or today.")
    return d


# ---- the report engine ---------------------------------------------------------------------------
class Reports:
    """The report engine of the simulated properties: their sessions (`data`), the property
    owner's settings (custom metric units, custom dimensions) and the data-loss knobs."""

    def __init__(self, data: Sessions, other_row_limit: int = OTHER_ROW_LIMIT) -> None:
        self.data = data
        self.other_row_limit = other_row_limit
        self.thresholding = True
        self.sampling_above_days: int | None = None
        self.custom_metric_types: dict[str, str] = {}   # set_metric_type: custom metrics whose unit changed
        self.dimensions: dict[str, tuple] = dict(DIMENSIONS)   # add_custom_dimension registers more
        # Encoded answers (without propertyQuota) by request: a benchmark re-reading the same pages
        # measures the client, not this server's aggregation. Bounded by bytes.
        self._answers: collections.OrderedDict = collections.OrderedDict()
        self._answer_bytes = 0

    def forget(self) -> None:
        """Drop the memoised answers (the data or the catalogue changed under them)."""
        self._answers.clear()
        self._answer_bytes = 0

    def metadata(self, pid: str) -> dict:
        return metadata_json(pid, self.custom_metric_types, self.dimensions)

    def configure(self, *, other_row_limit: int | None = None, thresholding: bool | None = None,
                  sampling_above_days: int | None = None) -> dict:
        if other_row_limit is not None:
            self.other_row_limit = int(other_row_limit)
        if thresholding is not None:
            self.thresholding = bool(thresholding)
        if sampling_above_days is not None:
            self.sampling_above_days = int(sampling_above_days) or None
        return {"other_row_limit": self.other_row_limit, "thresholding": self.thresholding,
                "sampling_above_days": self.sampling_above_days, "revision": self.data.revision}

    # A custom metric's measurement unit (Admin API: STANDARD, CURRENCY, distances, durations) can
    # be changed by the property's owner; the Data API then reports it with the matching type,
    # always a floating-point one. Built-in metrics' types never change.
    CUSTOM_METRIC_TYPES = {"TYPE_STANDARD", "TYPE_CURRENCY", "TYPE_FEET", "TYPE_METERS", "TYPE_KILOMETERS",
                           "TYPE_MILES", "TYPE_MILLISECONDS", "TYPE_SECONDS", "TYPE_MINUTES", "TYPE_HOURS"}

    def set_metric_type(self, metric: str, type_: str) -> dict:
        """A custom metric's unit changed: metadata and reports give it `type_` from now on."""
        if metric not in METRICS or metric not in CUSTOM:
            raise ValueError(f"{metric!r} is not a custom metric; one of "
                             f"{sorted(m for m in METRICS if m in CUSTOM)}")
        if type_ not in self.CUSTOM_METRIC_TYPES:
            raise ValueError(f"a custom metric's type is one of {sorted(self.CUSTOM_METRIC_TYPES)}, not {type_!r}")
        self.custom_metric_types[metric] = type_
        self.forget()             # answers memoised before carry the old type
        return {"metric": metric, "type": type_}

    # GA4's rule for event and user parameter names (what a custom dimension's API name ends with):
    # a letter, then letters, digits and underscores, at most 40 characters.
    PARAMETER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")

    def add_custom_dimension(self, parameter: str, scope: str = "event", like: str = "contentGroup") -> dict:
        """The property's owner registers a custom dimension on a parameter the site sends: reports
        may ask for `customEvent:<parameter>` (or `customUser:`) from now on; its values are those
        of the built-in session dimension `like`."""
        if scope not in ("event", "user"):
            raise ValueError(f"scope is 'event' or 'user', not {scope!r}")
        if not self.PARAMETER_NAME.fullmatch(parameter):
            raise ValueError(f"{parameter!r} is not a GA4 parameter name (a letter, then letters, digits and "
                             "underscores, at most 40 characters)")
        if like not in DIMENSIONS or DIMENSIONS[like][0] != "session":
            raise ValueError(f"{like!r} is not a session dimension")
        api_name = f"custom{scope.capitalize()}:{parameter}"
        if api_name in self.dimensions:
            raise ValueError(f"{api_name} already exists")
        self.dimensions[api_name] = ("session", DIMENSIONS[like][1], f"{parameter} (custom)", "Custom")
        self.forget()
        return {"apiName": api_name}

    def serving_tables(self, dims: list[str], mets: list[str]) -> set[str]:
        """The fact tables (session, event, item) that hold every one of these fields: none means
        GA4 would call the request incompatible."""
        scopes = {self.dimensions[d][0] for d in dims} - {"session"}
        tables = {"session", "event", "item"}
        for m in mets:
            tables &= set(METRICS[m][2])
        if "purchase" in scopes:   # transactionId: sessions with an order, or their items
            scopes.discard("purchase")
            tables &= {"session", "item"}
        for scope in scopes:
            tables &= {scope}
        return tables

    def check_compatibility(self, pid: str, body: dict) -> dict:
        """checkCompatibility: every dimension and metric of the property, COMPATIBLE when it could
        be added to the request's fields (and filter fields), else INCOMPATIBLE."""
        body = normalize(body)
        fields: set = set()
        _compile_filter(body.get("dimensionFilter"), "dimension", fields, self.dimensions)
        _compile_filter(body.get("metricFilter"), "metric", fields, self.dimensions)
        dims = [d.get("name") for d in body.get("dimensions") or [] if isinstance(d, dict)]
        mets = [m.get("name") for m in body.get("metrics") or [] if isinstance(m, dict)]
        for name in dims + [f for f in fields if f in self.dimensions]:
            if name not in self.dimensions:
                raise bad(f"Field {name} is not a valid dimension.")
        for name in mets + [f for f in fields if f not in self.dimensions]:
            if name not in METRICS:
                raise bad(f"Field {name} is not a valid metric.")
        dims += [f for f in fields if f in self.dimensions]
        mets += [f for f in fields if f in METRICS]
        wanted = _enum(body.get("compatibilityFilter"), COMPATIBILITIES, "compatibility_filter")
        if wanted == "COMPATIBILITY_UNSPECIFIED":
            wanted = None
        metadata = self.metadata(pid)

        def verdict(ok: bool) -> str:
            return "COMPATIBLE" if ok else "INCOMPATIBLE"
        out_dims = [{"dimensionMetadata": d, "compatibility": verdict(bool(self.serving_tables(dims + [d["apiName"]], mets)))}
                    for d in metadata["dimensions"]]
        out_mets = [{"metricMetadata": m, "compatibility": verdict(bool(self.serving_tables(dims, mets + [m["apiName"]])))}
                    for m in metadata["metrics"]]
        if wanted:
            out_dims = [d for d in out_dims if d["compatibility"] == wanted]
            out_mets = [m for m in out_mets if m["compatibility"] == wanted]
        return {"dimensionCompatibilities": out_dims, "metricCompatibilities": out_mets}

    def metric_type(self, metric: str) -> str:
        return self.custom_metric_types.get(metric, METRICS[metric][0])

    # -- runReport -------------------------------------------------------------------------------------
    def run_report(self, pid: str, body: dict) -> tuple[dict, int, bool]:
        """(answer without propertyQuota, tokens to charge, potentially thresholded)."""
        if not isinstance(body, dict):
            raise bad("Invalid JSON payload received. Expected an object.")
        body = normalize(body)
        for k in body:
            if k not in REQUEST_FIELDS:
                raise bad(f'Invalid JSON payload received. Unknown name "{k}": Cannot find field.')
        if body.get("property") not in (None, "", f"properties/{pid}"):
            raise bad("Property in the request body and in the URL differ.")
        for f in ("cohortSpec", "comparisons"):
            if body.get(f):
                raise bad(f"{f} is not supported by this sandbox.")
        dims = [d.get("name") if isinstance(d, dict) else None for d in body.get("dimensions") or []]
        mets = [m.get("name") if isinstance(m, dict) else None for m in body.get("metrics") or []]
        if len(dims) > MAX_DIMENSIONS:
            raise bad(f"Requests are limited to {MAX_DIMENSIONS} dimensions within a request. This request has "
                      f"{len(dims)} dimensions.")
        if len(mets) > MAX_METRICS:
            raise bad(f"Requests are limited to {MAX_METRICS} metrics within a request. This request has "
                      f"{len(mets)} metrics.")
        if not mets and not dims:
            raise bad("At least one dimension or metric is required.")
        for d in dims:
            if d not in self.dimensions:
                raise bad(f"Field {d} is not a valid dimension. For a list of valid dimensions and metrics, see "
                          "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ")
        for m in mets:
            if m not in METRICS:
                raise bad(f"Field {m} is not a valid metric. For a list of valid dimensions and metrics, see "
                          "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ")
        if len(set(dims)) != len(dims) or len(set(mets)) != len(mets):
            raise bad("Dimensions and metrics must not be repeated in a request.")
        limit = _int64(body.get("limit"), "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
        offset = _int64(body.get("offset"), "offset", 0)
        if limit < 0 or offset < 0:
            raise bad("limit and offset must be non-negative.")
        if limit > MAX_LIMIT:
            raise bad(f"limit must be at most {MAX_LIMIT}; found {limit}.")
        ranges = body.get("dateRanges") or []
        if not ranges:
            raise bad("dateRanges must be set.")
        spans = []
        for i, rg in enumerate(ranges):
            start = _date(rg.get("startDate"), self.data.today, f"date_ranges[{i}].start_date")
            end = _date(rg.get("endDate"), self.data.today, f"date_ranges[{i}].end_date")
            if start > end:
                raise bad(f"date_ranges[{i}]: startDate must not be after endDate.")
            spans.append((start, end, rg.get("name") or f"date_range_{i}"))
        filter_fields: set = set()
        dim_filter = _compile_filter(body.get("dimensionFilter"), "dimension", filter_fields, self.dimensions)
        met_filter = _compile_filter(body.get("metricFilter"), "metric", filter_fields, self.dimensions)

        # which fact table can serve every field?
        tables = self.serving_tables(dims + [f for f in filter_fields if f in self.dimensions], mets)
        if not tables:
            culprit = next((d for d in dims if self.dimensions[d][0] not in ("session",)), None) or mets[-1]
            raise bad(f"Please remove {culprit} to make the request compatible. The request's dimensions & "
                      "metrics are incompatible. To learn more, see https://ga-dev-tools.google/ga4/"
                      "dimensions-metrics-explorer/")
        table = "session" if "session" in tables else sorted(tables)[0]

        # aggregation
        plan = _MetricPlan(table, mets, met_filter_fields=[f for f in filter_fields if f in METRICS])
        thresholded = (self.thresholding and bool(set(dims) & THRESHOLD_DIMENSIONS)
                       and bool(set(mets) & USER_METRICS))
        if thresholded:
            plan.ensure("totalUsers")
        getters = [self.dimensions[d][1] for d in dims]
        range_dim = len(spans) > 1
        groups: dict[tuple, list] = {}
        days = 0
        for start, end, rname in spans:
            n = (end - start).days + 1
            days += n
            for k in range(n):
                day = start + dt.timedelta(days=k)
                for s in self.data.visible_sessions(pid, day):
                    for x in _subfacts(table, s, self.data):
                        if dim_filter is not None and not dim_filter(s, x):
                            continue
                        key = tuple(g(s, x) for g in getters)
                        if range_dim:
                            key += (rname,)
                        acc = groups.get(key)
                        if acc is None:
                            acc = groups[key] = plan.new()
                        plan.add(acc, s, x)
        out_dims = dims + (["dateRange"] if range_dim else [])
        metadata: dict[str, Any] = {"currencyCode": "USD", "timeZone": TIME_ZONE}
        if len(groups) > 0 and self.other_row_limit:
            groups, folded = self._fold_other(groups, out_dims, plan)
            if folded:
                metadata["dataLossFromOtherRow"] = True
        rows = []
        for key, acc in groups.items():
            values = plan.finish(acc)
            if thresholded and key and "(other)" not in key and plan.users_of(acc) < THRESHOLD_USERS:
                continue
            if met_filter is not None and not met_filter(None, values):
                continue
            if not body.get("keepEmptyRows") and values and all(v == 0 for v in (values[m] for m in mets)):
                continue
            rows.append((key, values))
        rows = _order(rows, body.get("orderBys") or [], out_dims, mets)
        if thresholded:
            metadata["subjectToThresholding"] = True
        if self.sampling_above_days and days > self.sampling_above_days:
            space = sum(len(self.data.visible_sessions(pid, s + dt.timedelta(days=k)))
                        for s, e, _ in spans for k in range((e - s).days + 1))
            metadata["samplingMetadatas"] = [{"samplesReadCount": str(space // 10), "samplingSpaceSize": str(space)}]
        page = rows[offset:offset + limit]
        answer: dict[str, Any] = {
            "dimensionHeaders": [{"name": d} for d in out_dims],
            "metricHeaders": [{"name": m, "type": self.metric_type(m)} for m in mets],
        }
        if page:
            answer["rows"] = [{"dimensionValues": [{"value": v} for v in key],
                               "metricValues": [{"value": _fmt(values[m], self.metric_type(m))} for m in mets]}
                              for key, values in page]
        if rows:
            answer["rowCount"] = len(rows)
        answer["metadata"] = metadata
        answer["kind"] = "analyticsData#runReport"
        tokens = 5 + 2 * math.ceil(days / 7) + math.ceil(len(page) / 1000) + (2 if filter_fields else 0)
        return answer, tokens, thresholded

    def cached_report(self, pid: str, body: dict) -> tuple[bytes, int, bool]:
        """run_report, encoded, memoised on (property, request, revision, knobs)."""
        key = (pid, json.dumps(body, sort_keys=True), self.data.revision, self.other_row_limit, self.thresholding,
               self.sampling_above_days)
        hit = self._answers.get(key)
        if hit is not None:
            self._answers.move_to_end(key)
            return hit
        answer, tokens, thresholded = self.run_report(pid, body)
        hit = (json.dumps(answer, separators=(",", ":")).encode(), tokens, thresholded)
        self._answers[key] = hit
        self._answer_bytes += len(hit[0])
        while self._answer_bytes > ANSWER_CACHE_BYTES and len(self._answers) > 1:
            _, old = self._answers.popitem(last=False)
            self._answer_bytes -= len(old[0])
        return hit

    def _fold_other(self, groups: dict, dims: list, plan: "_MetricPlan") -> tuple[dict, bool]:
        limit = self.other_row_limit
        by_date: dict = {}
        di = dims.index("date") if "date" in dims else None
        for key in groups:
            by_date.setdefault(key[di] if di is not None else None, []).append(key)
        if all(len(keys) <= limit for keys in by_date.values()):
            return groups, False
        out: dict = {}
        for date, keys in by_date.items():
            if len(keys) <= limit:
                for k in keys:
                    out[k] = groups[k]
                continue
            keys.sort(key=lambda k: (-plan.weight(groups[k]), k))
            for k in keys[:limit - 1]:
                out[k] = groups[k]
            other = tuple(date if i == di else "(other)" for i in range(len(dims)))
            acc = plan.new()
            for k in keys[limit - 1:]:
                plan.merge(acc, groups[k])
            out[other] = acc
        return out, True


def _subfacts(table: str, s: tuple, data: Sessions):
    """A session's facts in `table`: itself, its (event, count)s, or its order's items."""
    if table == "session":
        return (None,)
    if table == "event":
        return s[S_EVENTS]
    order = s[S_ORDER]
    if order is None:
        return ()
    return data.items(order)


class _MetricPlan:
    """Accumulators for one report: plain sums, distinct-user sets, and ratios of the two."""

    def __init__(self, table: str, metrics: list, met_filter_fields: list) -> None:
        self.table = table
        self.metrics = list(metrics)
        self.slots: dict[str, int] = {}
        self.sums: list[tuple[int, Callable]] = []
        self.users: list[tuple[int, Callable | None]] = []
        self.ratios: dict[str, tuple] = {}
        for m in self.metrics + list(met_filter_fields):
            self.ensure(m)

    def ensure(self, m: str) -> None:
        if m in self.slots or m in self.ratios:
            return
        spec = METRICS[m][2].get(self.table)
        if spec is None:
            raise bad(f"Please remove {m} to make the request compatible. The request's dimensions & metrics "
                      "are incompatible.")
        if spec[0] == "ratio":
            self.ensure(spec[1])
            self.ensure(spec[2])
            self.ratios[m] = spec
            return
        slot = len(self.slots)
        self.slots[m] = slot
        (self.sums if spec[0] == "sum" else self.users).append((slot, spec[1]))

    def new(self) -> list:
        acc = [0] * len(self.slots)
        for slot, _ in self.users:
            acc[slot] = set()
        return acc

    def add(self, acc: list, s: tuple, x: Any) -> None:
        for slot, g in self.sums:
            acc[slot] += g(s, x)
        for slot, pred in self.users:
            if pred is None or pred(s, x):
                acc[slot].add(s[S_USER])

    def merge(self, acc: list, other: list) -> None:
        for slot, _ in self.sums:
            acc[slot] += other[slot]
        for slot, _ in self.users:
            acc[slot] |= other[slot]

    def weight(self, acc: list) -> float:
        if not acc:
            return 0
        v = acc[0]
        return len(v) if isinstance(v, set) else v

    def users_of(self, acc: list) -> int:
        return len(acc[self.slots["totalUsers"]]) if "totalUsers" in self.slots else 99

    def finish(self, acc: list) -> dict:
        vals = {m: (len(acc[i]) if isinstance(acc[i], set) else acc[i]) for m, i in self.slots.items()}
        for m, (_, num, den, fn) in self.ratios.items():
            vals[m] = fn(vals[num] / vals[den]) if vals[den] else 0
        return vals


def _fmt(v: float, type_: str) -> str:
    if type_ == "TYPE_INTEGER":
        return str(int(v))
    if type_ == "TYPE_CURRENCY":
        v = round(v, 2)
    if v == int(v):
        return str(int(v))
    return repr(round(v, 10))


def _compile_filter(expr: Any, kind: str, fields: set, dimensions: dict[str, tuple]):
    """FilterExpression -> predicate(session, sub-fact) (dimension) or predicate(None, values) (metric)."""
    if expr is None:
        return None
    if not isinstance(expr, dict) or len(expr) != 1:
        raise bad(f"{kind}Filter: a FilterExpression has exactly one of andGroup, orGroup, notExpression, filter.")
    (op, val), = expr.items()
    if op in ("andGroup", "orGroup"):
        subs = [_compile_filter(e, kind, fields, dimensions) for e in (val or {}).get("expressions") or []]
        if op == "andGroup":
            return lambda s, x: all(f(s, x) for f in subs)
        return lambda s, x: any(f(s, x) for f in subs)
    if op == "notExpression":
        sub = _compile_filter(val, kind, fields, dimensions)
        return lambda s, x: not sub(s, x)
    if op != "filter":
        raise bad(f'Invalid JSON payload received. Unknown name "{op}" at \'{kind}_filter\': Cannot find field.')
    name = val.get("fieldName")
    if kind == "dimension":
        if name not in dimensions:
            raise bad(f"Field {name} is not a valid dimension.")
        getter = dimensions[name][1]
    else:
        if name not in METRICS:
            raise bad(f"Field {name} is not a valid metric.")
        getter = (lambda s, x, n=name: x[n])
    fields.add(name)
    if "stringFilter" in val:
        sf = val["stringFilter"]
        mt = _enum(sf.get("matchType"), MATCH_TYPES, "string_filter.match_type", "EXACT")
        want = str(sf.get("value", ""))
        cs = bool(sf.get("caseSensitive"))
        norm = (lambda v: v) if cs else (lambda v: v.lower())
        w = norm(want)
        rx = re.compile(want, 0 if cs else re.I) if mt in ("FULL_REGEXP", "PARTIAL_REGEXP") else None
        test = {"EXACT": lambda v: norm(v) == w, "BEGINS_WITH": lambda v: norm(v).startswith(w),
                "ENDS_WITH": lambda v: norm(v).endswith(w), "CONTAINS": lambda v: w in norm(v),
                "FULL_REGEXP": lambda v: rx.fullmatch(v) is not None,
                "PARTIAL_REGEXP": lambda v: rx.search(v) is not None}[mt]
        return lambda s, x: test(str(getter(s, x)))
    if "inListFilter" in val:
        lf = val["inListFilter"]
        cs = bool(lf.get("caseSensitive"))
        values = {v if cs else v.lower() for v in lf.get("values") or []}
        return lambda s, x: (str(getter(s, x)) if cs else str(getter(s, x)).lower()) in values
    if "numericFilter" in val:
        nf = val["numericFilter"]
        op_ = _enum(nf.get("operation"), NUMERIC_OPS, "numeric_filter.operation")
        num = _numeric(nf.get("value"))
        cmp = {"EQUAL": lambda a: a == num, "LESS_THAN": lambda a: a < num, "LESS_THAN_OR_EQUAL": lambda a: a <= num,
               "GREATER_THAN": lambda a: a > num, "GREATER_THAN_OR_EQUAL": lambda a: a >= num}[op_]
        return lambda s, x: cmp(float(getter(s, x)))
    if "betweenFilter" in val:
        lo, hi = _numeric(val["betweenFilter"].get("fromValue")), _numeric(val["betweenFilter"].get("toValue"))
        return lambda s, x: lo <= float(getter(s, x)) <= hi
    if "emptyFilter" in val:
        return lambda s, x: getter(s, x) in ("", "(not set)")
    raise bad(f"filter on {name}: one of stringFilter, inListFilter, numericFilter, betweenFilter, emptyFilter.")


def _numeric(v: Any) -> float:
    if not isinstance(v, dict):
        raise bad("NumericValue must be an object with int64Value or doubleValue.")
    if "int64Value" in v:
        return float(_int64(v["int64Value"], "int64_value", 0))
    if "doubleValue" in v:
        return float(v["doubleValue"])
    raise bad("NumericValue must have int64Value or doubleValue.")


def _order(rows: list, order_bys: list, dims: list, mets: list) -> list:
    if not order_bys:
        return sorted(rows, key=lambda r: r[0])
    for ob in reversed(order_bys):
        desc = bool(ob.get("desc"))
        if "dimension" in ob:
            name = ob["dimension"].get("dimensionName")
            if name not in dims:
                raise bad(f"orderBys: dimension {name} is not in the request.")
            i = dims.index(name)
            ot = _enum(ob["dimension"].get("orderType"), ORDER_TYPES, "order_type", "ALPHANUMERIC")
            if ot == "NUMERIC":
                def k(r, i=i):
                    try:
                        return (0, float(r[0][i]), "")
                    except ValueError:
                        return (1, 0.0, r[0][i])
            elif ot == "CASE_INSENSITIVE_ALPHANUMERIC":
                def k(r, i=i):
                    return r[0][i].lower()
            else:
                def k(r, i=i):
                    return r[0][i]
            rows.sort(key=k, reverse=desc)
        elif "metric" in ob:
            name = ob["metric"].get("metricName")
            if name not in mets:
                raise bad(f"orderBys: metric {name} is not in the request.")
            rows.sort(key=lambda r, n=name: r[1][n], reverse=desc)
        else:
            raise bad("orderBys: each OrderBy needs dimension or metric.")
    return rows


