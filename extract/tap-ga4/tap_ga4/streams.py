"""One stream per GA4 report, incremental by day with a restatement window.

Windows. Each property (a partition) is read in windows of `window_days` days, `date` always
the first dimension, rows ordered by every dimension so limit/offset paging is stable. The
bookmark (`replication_key_value`, a date) is written only after a window's last page: it is
always the last day whose rows were all emitted. The next run starts `lookback_days` days
before the day after the bookmark, so GA4's restatements of recent days (24–48 h) are pulled
again; loaders upsert them on `row_key`, which is a hash of property_id, date and every other
dimension value, so restated rows replace old figures and are never duplicated.

Data loss. GA4 folds high-cardinality rows into "(other)" and may withhold small rows
(thresholding) or sample. Each row carries `is_other_row` and the request's
`subject_to_thresholding`, `data_loss_from_other_row` and `is_sampled`.
"""
from __future__ import annotations

import datetime as dt
import gc
import math
import hashlib
import typing as t

from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import OffsetPaginator
from tributary_tap_support.sdk_private import OwnBookmarks, write_state

from tap_ga4.client import GA4Stream, payload
from tap_ga4.reports import Report, column_name

isfinite = math.isfinite

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

INTEGER_TYPES = {"TYPE_INTEGER"}


def metric_number(cast: t.Callable, text: t.Any, report: str, metric: str) -> int | float | None:
    """One metric value the fast cast refused or that is not finite. GA4 sends numbers as text;
    "NaN", "Infinity" and "-Infinity" occur for ratios over nothing. Our one rule: a value that is
    not a finite number lands as NULL (the caller counts it); an integer metric sent as "1.0" is
    the integer; anything else is not a number and stops the run naming the report and metric."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise RuntimeError(f"report '{report}': GA4 answered metric {metric} with {str(text)[:40]!r}, which is "
                           "not a number. The run stopped; the bookmark stays at the last whole window. "
                           "Fix: run again; if it repeats, check the metric in the report's settings.") from None
    if not math.isfinite(number):
        return None
    return cast(number)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class RowCountPaginator(OffsetPaginator):
    """limit/offset paging until offset reaches GA4's rowCount (absent in an empty report)."""

    def has_more(self, response: requests.Response) -> bool:
        return self.current_value + self.page_size < payload(response).rowCount


def window_bounds(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    out = []
    cur = start
    while cur <= end:
        stop = min(end, cur + dt.timedelta(days=days - 1))
        out.append((cur, stop))
        cur = stop + dt.timedelta(days=1)
    return out


class ReportStream(OwnBookmarks, GA4Stream):
    """A configured (or default) GA4 report. Its bookmark moves only after a whole window
    (_bookmark), never with each record as the SDK's would: a run stopped half-way through a day
    (quota) must not mark that day done."""

    path = "/v1beta/properties/{property_id}:runReport"
    primary_keys = ("row_key",)
    replication_key = "date"
    is_sorted = False
    # Records are built with exactly the declared types (str, int, float, bool): conformance
    # would only cost time.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap, report: Report) -> None:  # noqa: ANN001
        self.report = report
        self.name = report.name
        self._window: tuple[dt.date, dt.date] | None = None
        self._extracted_at = utc_now()
        self._dim_cols = [column_name(d) for d in report.other_dimensions]
        self._met_cols = [column_name(m) for m in report.metrics]
        self._met_casts = [int if report.metric_types.get(m) in INTEGER_TYPES else float for m in report.metrics]
        super().__init__(tap=tap, name=report.name, schema=self.report_schema())

    # -- schema ----------------------------------------------------------------------------------
    def report_schema(self) -> dict:
        props = [
            th.Property("row_key", th.StringType, required=True,
                        description="sha1 of property_id, date and every other dimension value"),
            th.Property("property_id", th.StringType, required=True),
            th.Property("date", th.DateType, required=True),
        ]
        for api, col in zip(self.report.other_dimensions, self._dim_cols):
            props.append(th.Property(col, th.StringType, description=f"GA4 dimension {api}"))
        for api, col in zip(self.report.metrics, self._met_cols):
            typ = th.IntegerType if self.report.metric_types.get(api) in INTEGER_TYPES else th.NumberType
            props.append(th.Property(col, typ, description=f"GA4 metric {api} "
                                                           f"({self.report.metric_types.get(api, '?')})"))
        props += [
            th.Property("is_other_row", th.BooleanType,
                        description='a dimension value is "(other)": GA4 folded rows here'),
            th.Property("subject_to_thresholding", th.BooleanType,
                        description="GA4 may have withheld rows with small counts from this request"),
            th.Property("data_loss_from_other_row", th.BooleanType,
                        description='this request had rows folded into "(other)"'),
            th.Property("is_sampled", th.BooleanType, description="the request was answered from a sample"),
            th.Property("currency_code", th.StringType),
        ]
        return th.PropertiesList(*props).to_dict()

    # -- partitions and windows -------------------------------------------------------------------
    @property
    def partitions(self) -> list[dict]:
        return [{"property_id": str(p)} for p in self.tap.property_ids]

    def _end_date(self) -> dt.date:
        if self.config.get("end_date"):
            return dt.date.fromisoformat(str(self.config["end_date"])[:10])
        return dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)

    def _start_date(self, context: Context | None, end: dt.date) -> dt.date:
        # The bookmark itself, not get_starting_replication_key_value(): the SDK falls back to
        # start_date there, which would then be rewound by the lookback.
        bookmark = self.get_context_state(context).get("replication_key_value")
        lookback = int(self.config.get("lookback_days", 3))
        if bookmark:
            resume = dt.date.fromisoformat(str(bookmark)[:10]) + dt.timedelta(days=1)
            return resume - dt.timedelta(days=max(0, lookback))
        if self.config.get("start_date"):
            return dt.date.fromisoformat(str(self.config["start_date"])[:10])
        return end - dt.timedelta(days=29)

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        end = self._end_date()
        start = self._start_date(context, end)
        pid = (context or {}).get("property_id")
        windows = window_bounds(start, end, max(1, int(self.config.get("window_days", 7))))
        self.logger.info("Report '%s', property %s: %s to %s in %d window(s)", self.name, pid, start, end,
                         len(windows))
        self._rows_read = self.not_finite = 0
        for w_start, w_end in windows:
            self._window = (w_start, w_end)
            # A window's rows are held until its last page has arrived: a run stopped mid-window
            # (quota, an error) sends none of them, so no day lands with part of its rows, which
            # staging (ga4_latest_load) would take for the whole day. Memory is one window's rows
            # (GA4's rowCount for it; window_days bounds it).
            yield from list(self.request_records(context))
            self._bookmark(context, w_end)
        self.tap.log_quota(self.name, pid, self._rows_read)
        if self.not_finite:
            self.logger.warning("Report '%s', property %s: %d metric values were not finite numbers (NaN or "
                                "Infinity) and landed as NULL", self.name, pid, self.not_finite)

    def _bookmark(self, context: Context | None, day: dt.date) -> None:
        """Advance the bookmark to the end of a finished window and send STATE now."""
        state = self.get_context_state(context)
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = day.isoformat()
        write_state(self)

    # -- requests --------------------------------------------------------------------------------
    @property
    def page_size(self) -> int:
        return int(self.config.get("page_size") or 100_000)

    def get_new_paginator(self) -> RowCountPaginator:
        return RowCountPaginator(start_value=0, page_size=self.page_size)

    def prepare_request_payload(self, context: Context | None, next_page_token: int | None) -> dict:
        assert self._window is not None
        start, end = self._window
        r = self.report
        body: dict[str, t.Any] = {
            "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
            "dimensions": [{"name": d} for d in r.dimensions],
            "metrics": [{"name": m} for m in r.metrics],
            # date first, then every dimension: a total order, so offset paging never skips a row
            "orderBys": [{"dimension": {"dimensionName": d}, "desc": False} for d in r.dimensions],
            "limit": str(self.page_size),
            "offset": str(next_page_token or 0),
            "returnPropertyQuota": True,
        }
        if r.keep_empty_rows:
            body["keepEmptyRows"] = True
        if r.dimension_filter:
            body["dimensionFilter"] = r.dimension_filter
        if r.metric_filter:
            body["metricFilter"] = r.metric_filter
        return body

    # -- parsing ----------------------------------------------------------------------------------
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        page = payload(response)
        pid = (self.context or {}).get("property_id") or response.request.path_url.split("/properties/")[1].split(":")[0]
        if page.propertyQuota:
            self.tap.note_quota(pid, page.propertyQuota)
        self._extracted_at = utc_now()
        rows = page.rows
        if not rows:
            return []
        md = page.metadata or {}
        flags = [bool(md.get("subjectToThresholding")), bool(md.get("dataLossFromOtherRow")),
                 bool(md.get("samplingMetadatas")), md.get("currencyCode")]
        heads = [h.name for h in page.dimensionHeaders]
        if heads != self.report.dimensions:
            raise RuntimeError(f"report '{self.name}': GA4 answered dimensions {heads}, "
                               f"expected {self.report.dimensions}")
        mheads = [h.name for h in page.metricHeaders]
        if mheads != self.report.metrics:
            raise RuntimeError(f"report '{self.name}': GA4 answered metrics {mheads}, expected {self.report.metrics}")
        self._rows_read = getattr(self, "_rows_read", 0) + len(rows)
        keys = ["row_key", "property_id", "date", *self._dim_cols, *self._met_cols, "is_other_row",
                "subject_to_thresholding", "data_loss_from_other_row", "is_sampled", "currency_code"]
        casts = self._met_casts
        prefix = pid + "\x1f"
        sha1 = hashlib.sha1
        out = []
        append = out.append
        # One dict(zip()) per row is the cheapest way CPython builds a dict of known keys; the
        # cyclic GC is paused meanwhile (the page's new dicts hold no cycles).
        paused = gc.isenabled()
        gc.disable()
        try:
            for row in rows:
                dvals = [d.value for d in row.dimensionValues]
                try:
                    mvals = [c(m.value) for c, m in zip(casts, row.metricValues)]
                    plain = all(map(isfinite, mvals))
                except (TypeError, ValueError):   # "1.0" or "NaN" for an integer metric
                    plain = False
                if not plain:
                    mvals = [metric_number(c, m.value, self.name, name)
                             for c, m, name in zip(casts, row.metricValues, self.report.metrics)]
                    self.not_finite += mvals.count(None)
                ymd = dvals[0]
                append(dict(zip(keys, [sha1((prefix + "\x1f".join(dvals)).encode()).hexdigest(), pid,
                                       f"{ymd[:4]}-{ymd[4:6]}-{ymd[6:8]}", *dvals[1:], *mvals,
                                       "(other)" in dvals, *flags])))
        finally:
            if paused:
                gc.enable()
        return out

    # -- writing ----------------------------------------------------------------------------------
    def record_extracted_at(self) -> dt.datetime:
        return self._extracted_at   # every record of a page: the time the page arrived
