"""The one place where tap-ga4 talks HTTP: auth, errors, quota and parsing (retries and first
contact: tributary_tap_support.streams)."""
from __future__ import annotations

import re
import time

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from tributary_tap_support.reach import reach, unreachable_error, url_setting_fix
from tributary_tap_support.retry import RetryWaits
from tributary_tap_support.streams import TributaryRESTStream

from tap_ga4.auth import GA4AuthError, GA4ConfigError, GA4Credentials

DEFAULT_API_URL = "https://analyticsdata.googleapis.com"
PAGE_MAX = 250_000

# Which budget a 429 RESOURCE_EXHAUSTED names, from Google's message, and when it comes back.
QUOTA_PATTERNS = (
    ("tokensPerProjectPerHour", re.compile(r"for a project per hour", re.I), "within the hour"),
    ("tokensPerHour", re.compile(r"tokens per hour", re.I), "within the hour"),
    ("tokensPerDay", re.compile(r"per day", re.I), "at midnight in the property's time zone (Pacific for most)"),
    ("concurrentRequests", re.compile(r"concurrent", re.I), "as soon as other requests finish"),
    ("potentiallyThresholdedRequestsPerHour", re.compile(r"thresholded", re.I), "within the hour"),
    ("serverErrorsPerProjectPerHour", re.compile(r"server errors", re.I), "within the hour"),
)


class QuotaExhausted(FatalAPIError):
    """A GA4 token budget is spent. The run stops; the state already sent covers every complete window."""

    def __init__(self, quota: str, message: str, resets: str, property_id: str | None) -> None:
        self.quota, self.google_message, self.resets, self.property_id = quota, message, resets, property_id
        super().__init__(f"GA4 quota {quota} exhausted for property {property_id} (\"{message}\"); it resets "
                         f"{resets}. The bookmark stops at the last complete day: run again later to resume.")


def classify_quota(message: str) -> tuple[str, str]:
    for name, rx, resets in QUOTA_PATTERNS:
        if rx.search(message or ""):
            return name, resets
    return "unknown", "later (see the message)"


def sleep(seconds: float) -> None:   # patched by tests
    time.sleep(seconds)


# ---- responses ------------------------------------------------------------------------------------
# A runReport answer decoded straight into typed, GC-untracked structs: faster than dicts, and a
# page of 100,000 rows no longer wakes the cyclic GC again and again.
class Value(msgspec.Struct, gc=False):
    value: str = ""


class Row(msgspec.Struct, gc=False):
    dimensionValues: list[Value] = []
    metricValues: list[Value] = []


class Header(msgspec.Struct, gc=False):
    name: str
    type: str = ""


REPORT_KIND = "analyticsData#runReport"  # every runReport answer says so (Google's reference)


class ReportPage(msgspec.Struct):
    dimensionHeaders: list[Header] = []
    metricHeaders: list[Header] = []
    rows: list[Row] = []
    rowCount: int = 0
    metadata: dict = {}
    propertyQuota: dict | None = None
    kind: str = ""


_decode_page = msgspec.json.Decoder(ReportPage).decode


def payload(response: requests.Response) -> ReportPage:
    """The runReport answer, parsed once (paginator and parser share it)."""
    cached = getattr(response, "_ga4_payload", None)
    if cached is None:
        try:
            cached = _decode_page(response.content)
        except msgspec.DecodeError as exc:
            raise RetriableAPIError(f"GA4 answered with a body that is not valid JSON ({exc}; cut off or "
                                    "corrupted on the way)", response) from None
        response._ga4_payload = cached  # type: ignore[attr-defined]
    return cached


def google_error(response: requests.Response) -> tuple[str, str]:
    """(status, message) from Google's {"error": {code, message, status}} or the raw text."""
    try:
        err = response.json().get("error")
    except (ValueError, AttributeError):
        err = None
    if isinstance(err, dict):
        return str(err.get("status") or response.status_code), str(err.get("message") or "")
    return str(response.status_code), (response.text or response.reason or "").strip()[:300]


# ---- plain calls (discovery) -------------------------------------------------------------------------
def get_metadata(api_url: str, property_id: str, credentials: GA4Credentials,
                 session: requests.Session | None = None, tries: int = 6) -> dict:
    """GET /v1beta/properties/{id}/metadata, with the same retry rules as the streams."""
    session = session or requests.Session()
    base_url = api_url.rstrip("/")
    url = f"{base_url}/v1beta/properties/{property_id}/metadata"
    unreachable = unreachable_error(GA4Stream.api_title, url_setting_fix("tap-ga4", "api_url", DEFAULT_API_URL))
    waits = RetryWaits(cap=30)
    refreshed = False
    for attempt in range(tries):
        try:
            resp = reach(lambda: session.get(url, auth=credentials, timeout=120), base_url, unreachable)
        except requests.RequestException as exc:
            if attempt == tries - 1:
                raise FatalAPIError(f"GA4 metadata for property {property_id}: {exc}") from None
            sleep(waits.next())
            continue
        if resp.status_code == 200:
            return resp.json()
        status, message = google_error(resp)
        if resp.status_code == 401 and credentials.can_refresh and not refreshed:
            credentials.invalidate()
            refreshed = True
            continue
        if resp.status_code in (401, 403):
            raise GA4AuthError(f"GA4 refused access to property {property_id} ({resp.status_code} {status}: "
                               f"{message}): {credentials.hint}.")
        if resp.status_code >= 500 or (resp.status_code == 429 and "concurrent" in message.lower()):
            if attempt < tries - 1:
                sleep(waits.next(resp.headers.get("Retry-After")))
                continue
        if resp.status_code == 429:
            quota, resets = classify_quota(message)
            raise QuotaExhausted(quota, message, resets, property_id)
        if resp.status_code in (400, 404):
            raise GA4ConfigError(f"property_ids: GA4 does not accept property {property_id!r} ({status}: {message}).")
        raise FatalAPIError(f"GA4 metadata for property {property_id}: {resp.status_code} {status}: {message}")
    raise FatalAPIError(f"GA4 metadata for property {property_id}: gave up after {tries} tries")


# ---- base stream --------------------------------------------------------------------------------------
class GA4Stream(TributaryRESTStream):
    """Base for GA4 report streams: bearer auth from the tap's credentials, Google's errors. Base
    URL, first contact and back-off: TributaryRESTStream."""

    vendor = "GA4"
    api_title = "GA4 Data API"
    default_api_url = DEFAULT_API_URL
    http_method = "POST"  # type: ignore[assignment]

    @property
    def authenticator(self) -> GA4Credentials:  # type: ignore[override]
        return self.tap.credentials

    @property
    def request_label(self) -> str:
        return f"report '{self.name}'"

    def validate_response(self, response: requests.Response) -> None:
        code = response.status_code
        if code < 400:
            self._refreshed_after_401 = False
            # Parsed here, inside the retry loop: a page cut off on the way is asked for again
            # (parse_response reuses the parsed page), and so is a 200 that is not a report (GA4
            # always names its answer's kind): never read as a report without rows.
            if "runReport" in response.request.path_url and payload(response).kind != REPORT_KIND:
                raise RetriableAPIError(f"report '{self.name}': GA4 answered 200 with a body that is not a report "
                                        f"(kind {payload(response).kind!r}, not {REPORT_KIND!r})", response)
            return
        status, message = google_error(response)
        pid = (self.context or {}).get("property_id")
        creds = self.authenticator
        if code == 401 and creds.can_refresh and not getattr(self, "_refreshed_after_401", False):
            creds.invalidate()               # expired mid-run: one retry with a fresh token
            self._refreshed_after_401 = True
            raise RetriableAPIError(f"401 {status}: access token expired, refreshing", response)
        if code in (401, 403):
            raise GA4AuthError(f"GA4 refused report '{self.name}' for property {pid} ({code} {status}: {message}): "
                               f"{creds.hint}.")
        if code == 429:
            quota, resets = classify_quota(message)
            if quota in ("concurrentRequests", "serverErrorsPerProjectPerHour"):
                raise RetriableAPIError(f"429 {status}: {message}", response)
            raise QuotaExhausted(quota, message, resets, pid)
        if code >= 500:
            raise RetriableAPIError(f"{code} {status}: {message}", response)
        raise GA4ConfigError(f"GA4 refused report '{self.name}' for property {pid} ({code} {status}: {message}). "
                             f"Check that report's dimensions, metrics and filters in the 'reports' setting.")

    def response_error_message(self, response: requests.Response) -> str:
        return " ".join(google_error(response))

    def retry_wait(self, exception: Exception) -> float | None:
        response = getattr(exception, "response", None)
        return 0.0 if response is not None and response.status_code == 401 else None   # a fresh token: at once
