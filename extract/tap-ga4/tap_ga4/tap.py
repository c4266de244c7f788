"""tap-ga4: the Tap class, its settings, discovery checks and quota bookkeeping."""
from __future__ import annotations

import typing as t
from functools import cached_property

import requests
from singer_sdk import typing as th
from tributary_tap_support.tap import SDK_FAST_PATH, TributaryTap

from tap_ga4.auth import GA4ConfigError, GA4Credentials, auth_mode
from tap_ga4.client import DEFAULT_API_URL, PAGE_MAX, QuotaExhausted, get_metadata
from tap_ga4.reports import check_against_metadata, parse_reports
from tap_ga4.streams import ReportStream

EXIT_QUOTA = 75   # EX_TEMPFAIL: try again later, the state is good


class TapGA4(TributaryTap):
    """Singer tap for Google Analytics 4 (Data API v1beta): one stream per report."""

    name = "tap-ga4"
    dynamic_catalog = True   # metric types come from the property's metadata
    setting_examples = {"property_ids": '["412345678"]'}
    exit_codes = {QuotaExhausted: EXIT_QUOTA}
    gave_up_hint = "Fix: run again later; the next run resumes at the last complete day."

    config_jsonschema = th.PropertiesList(
        th.Property("property_ids", th.ArrayType(th.StringType), required=True,
                    description="GA4 property ids (numbers, e.g. [\"412345678\"]); one or several."),
        th.Property("service_account_key", th.StringType, secret=True,
                    description="Service-account key: the JSON key file's path or its JSON text. Its token_uri "
                                "is honoured. Env: TAP_GA4_SERVICE_ACCOUNT_KEY."),
        th.Property("oauth_client_id", th.StringType, description="OAuth client id (with client secret and "
                                                                   "refresh token)."),
        th.Property("oauth_client_secret", th.StringType, secret=True),
        th.Property("oauth_refresh_token", th.StringType, secret=True),
        th.Property("oauth_token_uri", th.StringType, default="https://oauth2.googleapis.com/token",
                    description="Token endpoint for the refresh-token grant."),
        th.Property("access_token", th.StringType, secret=True,
                    description="A ready access token (expires after an hour; for one-off runs)."),
        th.Property("api_url", th.StringType, default=DEFAULT_API_URL,
                    description="Data API base URL (the sandbox: http://127.0.0.1:<port>/ga4)."),
        th.Property("start_date", th.DateType,
                    description="First day to read when there is no bookmark (default: 30 days before end_date)."),
        th.Property("end_date", th.DateType,
                    description="Last day to read (default: yesterday, UTC)."),
        th.Property("lookback_days", th.IntegerType(minimum=0), default=3,
                    description="Restatement window: every run re-reads this many days up to the bookmark, "
                                "so GA4's late figures replace the early ones (rows are upserted by row_key)."),
        th.Property("window_days", th.IntegerType(minimum=1, maximum=366), default=7,
                    description="Days per request (and per STATE checkpoint). Fewer days cost more quota "
                                "tokens per day of data."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=PAGE_MAX), default=100_000,
                    description="Rows per runReport page (GA4 allows 250,000)."),
        th.Property("reports", th.ArrayType(th.ObjectType(
            th.Property("name", th.StringType, required=True),
            th.Property("dimensions", th.ArrayType(th.StringType)),
            th.Property("metrics", th.ArrayType(th.StringType), required=True),
            th.Property("dimension_filter", th.ObjectType(additional_properties=True)),
            th.Property("metric_filter", th.ObjectType(additional_properties=True)),
            th.Property("keep_empty_rows", th.BooleanType),
        )), description="Reports to sync, one stream each; empty = the default six (daily_overview, "
                        "traffic_acquisition, landing_pages, events, ecommerce_items, devices_countries). "
                        "`date` is added as first dimension when missing."),
        th.Property("user_agent", th.StringType),
        th.Property("request_timeout", th.NumberType, default=300,
                    description="Seconds to wait for one report page; a slower one is retried like a dropped connection."),
        SDK_FAST_PATH,
    ).to_dict()

    def __init__(self, *args, **kwargs) -> None:
        self.quota_seen: dict[str, dict] = {}
        self._quota_mark: dict[str, int] = {}
        super().__init__(*args, **kwargs)

    @classmethod
    def check_settings(cls, config: t.Mapping[str, t.Any]) -> list[str]:
        try:
            auth_mode(config)
        except GA4ConfigError as exc:
            return [str(exc)]
        return []

    @property
    def property_ids(self) -> list[str]:
        ids = [str(p).strip().removeprefix("properties/") for p in self.config.get("property_ids") or []]
        if not ids:
            raise GA4ConfigError("property_ids: give at least one GA4 property id.")
        return ids

    @cached_property
    def credentials(self) -> GA4Credentials:
        return GA4Credentials(self.config)

    # -- discovery ----------------------------------------------------------------------------------
    def discover_streams(self) -> list:
        reports = parse_reports(self.config.get("reports"))
        session = requests.Session()
        api_url = self.config.get("api_url") or DEFAULT_API_URL
        for pid in self.property_ids:
            md = get_metadata(api_url, pid, self.credentials, session)
            for report in reports:
                check_against_metadata(report, md, pid)
        return [ReportStream(self, r) for r in reports]

    # -- quota bookkeeping --------------------------------------------------------------------------
    def note_quota(self, property_id: str, quota: dict) -> None:
        self.quota_seen[property_id] = quota
        day = (quota.get("tokensPerDay") or {}).get("consumed")
        if day is not None:
            self._quota_mark.setdefault(f"run:{property_id}", int(day))
            self._quota_mark.setdefault(f"first:{property_id}", int(day))

    def log_quota(self, report: str, property_id: str, rows: int) -> None:
        """Tokens a report used: the rise of tokensPerDay.consumed since the previous report (the
        first request of a run is not counted: GA4 reports only running totals)."""
        quota = self.quota_seen.get(property_id)
        if not quota:
            return
        consumed = int((quota.get("tokensPerDay") or {}).get("consumed", 0))
        before = self._quota_mark.get(f"run:{property_id}", consumed)
        self._quota_mark[f"run:{property_id}"] = consumed
        left = {k: v.get("remaining") for k, v in quota.items() if isinstance(v, dict)}
        self.logger.info("GA4 quota: report '%s' property %s: %d rows, ~%d tokens; remaining %s", report,
                         property_id, rows, consumed - before, left)



if __name__ == "__main__":
    TapGA4.main()
