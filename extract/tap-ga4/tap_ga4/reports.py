"""Report definitions: the default set, column names, and the checks run at discovery."""
from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from tributary_tap_support.names import stable_name

from tap_ga4.auth import GA4ConfigError

MAX_DIMENSIONS, MAX_METRICS = 9, 10   # Data API v1beta limits per request (date included)

DEFAULT_REPORTS: list[dict] = [
    {"name": "daily_overview", "dimensions": ["date"],
     "metrics": ["sessions", "totalUsers", "newUsers", "activeUsers", "screenPageViews", "engagedSessions",
                 "userEngagementDuration", "keyEvents", "ecommercePurchases", "totalRevenue"]},
    {"name": "traffic_acquisition",
     "dimensions": ["date", "sessionSource", "sessionMedium", "sessionCampaignName", "sessionDefaultChannelGroup"],
     "metrics": ["sessions", "totalUsers", "newUsers", "engagedSessions", "keyEvents", "ecommercePurchases",
                 "totalRevenue"]},
    {"name": "landing_pages", "dimensions": ["date", "landingPage"],
     "metrics": ["sessions", "totalUsers", "newUsers", "engagedSessions", "screenPageViews", "keyEvents",
                 "totalRevenue"]},
    {"name": "events", "dimensions": ["date", "eventName"], "metrics": ["eventCount", "totalUsers"]},
    {"name": "ecommerce_items", "dimensions": ["date", "itemName", "itemId"],
     "metrics": ["itemsPurchased", "itemRevenue"]},
    {"name": "devices_countries", "dimensions": ["date", "deviceCategory", "country"],
     "metrics": ["sessions", "totalUsers", "newUsers", "engagedSessions", "keyEvents", "totalRevenue"]},
]

# Columns every report stream has besides its dimensions and metrics.
FIXED_COLUMNS = ("row_key", "property_id", "date", "is_other_row", "subject_to_thresholding",
                 "data_loss_from_other_row", "is_sampled", "currency_code")


def column_name(api_name: str) -> str:
    """sessionDefaultChannelGroup -> session_default_channel_group; customEvent:plan -> custom_event__plan.

    A custom definition's name is the property owner's choice: its part after the colon follows the
    taps' one name policy (tributary_tap_support/names.py), keyed by the API name, within 55 bytes
    for the whole column."""
    scope, sep, rest = api_name.partition(":")
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", scope).lower()
    if not sep:
        return snake
    return f"{snake}__{stable_name(rest, api_name, limit=55 - len(snake) - 2)}"


@dataclass
class Report:
    name: str
    dimensions: list[str]               # API names, "date" first
    metrics: list[str]
    dimension_filter: dict | None = None
    metric_filter: dict | None = None
    keep_empty_rows: bool = False
    metric_types: dict[str, str] = field(default_factory=dict)   # API name -> TYPE_*

    @property
    def other_dimensions(self) -> list[str]:
        return [d for d in self.dimensions if d != "date"]


def parse_reports(config_reports: t.Any) -> list[Report]:
    """The `reports` setting (or the defaults) as Report objects; shape errors name the report."""
    raw = config_reports or DEFAULT_REPORTS
    if not isinstance(raw, list):
        raise GA4ConfigError("reports must be a list of {name, dimensions, metrics, ...} objects.")
    out, seen = [], set()
    for i, r in enumerate(raw):
        if not isinstance(r, dict):
            raise GA4ConfigError(f"reports[{i}] must be an object with name, dimensions and metrics.")
        name = str(r.get("name") or "").strip()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise GA4ConfigError(f"reports[{i}]: name {name!r} must be lower_snake_case (it becomes the stream and "
                                 "table name).")
        if name in seen:
            raise GA4ConfigError(f"reports: the name {name!r} is used twice.")
        seen.add(name)
        dims = [str(d) for d in r.get("dimensions") or []]
        mets = [str(m) for m in r.get("metrics") or []]
        if not mets:
            raise GA4ConfigError(f"report '{name}': at least one metric is required.")
        if len(set(dims)) != len(dims) or len(set(mets)) != len(mets):
            raise GA4ConfigError(f"report '{name}': a dimension or metric is listed twice.")
        # The tap is incremental by day: `date` is always the first dimension.
        dims = ["date"] + [d for d in dims if d != "date"]
        if len(dims) > MAX_DIMENSIONS:
            raise GA4ConfigError(f"report '{name}' has {len(dims)} dimensions (date included); the GA4 Data API "
                                 f"allows at most {MAX_DIMENSIONS} per request. Split it into two reports.")
        if len(mets) > MAX_METRICS:
            raise GA4ConfigError(f"report '{name}' has {len(mets)} metrics; the GA4 Data API allows at most "
                                 f"{MAX_METRICS} per request. Split it into two reports.")
        cols = [column_name(x) for x in dims + mets]
        clash = sorted({c for c in cols if cols.count(c) > 1 or (c in FIXED_COLUMNS and c != "date")})
        if clash:
            raise GA4ConfigError(f"report '{name}': column name(s) {', '.join(clash)} clash with each other or "
                                 "with the tap's own columns.")
        out.append(Report(name, dims, mets, r.get("dimension_filter"), r.get("metric_filter"),
                          bool(r.get("keep_empty_rows", False))))
    return out


def check_against_metadata(report: Report, metadata: dict, property_id: str) -> None:
    """Every dimension and metric must exist for the property (custom definitions included); sets
    the metric types. Raises GA4ConfigError naming the report, the field and close matches."""
    dims = {d["apiName"] for d in metadata.get("dimensions", [])}
    mets = {m["apiName"]: m.get("type", "TYPE_FLOAT") for m in metadata.get("metrics", [])}
    for d in report.dimensions:
        if d not in dims:
            raise GA4ConfigError(f"report '{report.name}': dimension '{d}' does not exist for property "
                                 f"{property_id}{_suggest(d, dims, mets, 'metric')}.")
    for m in report.metrics:
        if m not in mets:
            raise GA4ConfigError(f"report '{report.name}': metric '{m}' does not exist for property "
                                 f"{property_id}{_suggest(m, mets, dims, 'dimension')}.")
        known = report.metric_types.get(m)
        if known and known != mets[m]:
            report.metric_types[m] = "TYPE_FLOAT" if "TYPE_INTEGER" in (known, mets[m]) else known
        else:
            report.metric_types[m] = mets[m]


def _suggest(name: str, same: t.Iterable[str], other: t.Iterable[str], other_kind: str) -> str:
    if name in set(other):
        return f" (it is a {other_kind}: move it to the report's {other_kind}s)"
    import difflib
    close = difflib.get_close_matches(name, list(same), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""
