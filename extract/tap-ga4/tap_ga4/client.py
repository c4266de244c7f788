"""The one place where tap-ga4 talks HTTP: auth, errors, quota, back-off and parsing."""
from __future__ import annotations

import json
import re
import sys
import time
import typing as t

import msgspec
import requests
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams import RESTStream
from tributary_tap_support.reach import reach

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


# ---- an API that cannot be reached ------------------------------------------------------------------
# A refused connection or an unknown host at first contact is named at once with the URL setting,
# not retried for minutes (tributary_tap_support/reach.py says when it is an outage instead).
class GA4Unreachable(FatalAPIError):
    """Nothing listens at the API URL, or its host does not exist: the setting has to be fixed."""


def unreachable(base_url: str, reason: str) -> GA4Unreachable:
    return GA4Unreachable(f"cannot reach the GA4 Data API at {base_url} ({reason}): check TAP_GA4_API_URL "
                          f"(default {DEFAULT_API_URL})")


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


# ---- writer ---------------------------------------------------------------------------------------
class BufferedMsgSpecWriter(MsgSpecWriter):
    """msgspec encoding without a flush after every RECORD (flushed on SCHEMA/STATE and at exit)."""

    _encoder = msgspec.json.Encoder(enc_hook=lambda o: o.isoformat(sep="T") if hasattr(o, "isoformat") else str(o))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._buf = bytearray(256)

    def write_message(self, message) -> None:  # noqa: ANN001
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if getattr(message, "type", None) != "RECORD":
            out.flush()

    def write_record(self, stream: str, record: dict, version: int | None, time_extracted: str) -> None:
        """A RECORD line, byte for byte what write_message(RecordMessage(...)) writes, without
        building the message object (a third of the per-record cost on wide reports)."""
        msg = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            msg["version"] = version
        msg["time_extracted"] = time_extracted
        buf = self._buf
        self._encoder.encode_into(msg, buf)
        buf.extend(b"\n")
        sys.stdout.buffer.write(buf)


# ---- plain calls (discovery) -------------------------------------------------------------------------
def get_metadata(api_url: str, property_id: str, credentials: GA4Credentials,
                 session: requests.Session | None = None, tries: int = 6) -> dict:
    """GET /v1beta/properties/{id}/metadata, with the same retry rules as the streams."""
    session = session or requests.Session()
    base_url = api_url.rstrip("/")
    url = f"{base_url}/v1beta/properties/{property_id}/metadata"
    refreshed = False
    for attempt in range(tries):
        try:
            resp = reach(lambda: session.get(url, auth=credentials, timeout=120), base_url, unreachable)
        except requests.RequestException as exc:
            if attempt == tries - 1:
                raise FatalAPIError(f"GA4 metadata for property {property_id}: {exc}") from None
            sleep(min(30, 2 ** attempt))
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
                sleep(min(30, 2 ** attempt))
                continue
        if resp.status_code == 429:
            quota, resets = classify_quota(message)
            raise QuotaExhausted(quota, message, resets, property_id)
        if resp.status_code in (400, 404):
            raise GA4ConfigError(f"property_ids: GA4 does not accept property {property_id!r} ({status}: {message}).")
        raise FatalAPIError(f"GA4 metadata for property {property_id}: {resp.status_code} {status}: {message}")
    raise FatalAPIError(f"GA4 metadata for property {property_id}: gave up after {tries} tries")


# ---- base stream --------------------------------------------------------------------------------------
class GA4Stream(RESTStream):
    """Base for GA4 report streams: bearer auth from the tap's credentials, Google's errors, back-off."""

    http_method = "POST"  # type: ignore[assignment]
    backoff_base_seconds = 1.0
    backoff_cap_seconds = 60.0

    @property
    def url_base(self) -> str:
        return (self.config.get("api_url") or DEFAULT_API_URL).rstrip("/")

    @property
    def timeout(self) -> float:
        return float(self.config.get("request_timeout") or 300)

    @property
    def authenticator(self) -> GA4Credentials:  # type: ignore[override]
        return self._tap.credentials

    @property
    def http_headers(self) -> dict:
        return {"Accept": "application/json", "User-Agent": self.config.get("user_agent") or "tap-ga4/0.1 (+Tributary)"}

    def _request(self, prepared_request: requests.PreparedRequest, context) -> requests.Response:  # noqa: ANN001
        return reach(lambda: super(GA4Stream, self)._request(prepared_request, context), self.url_base, unreachable)

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

    def backoff_max_tries(self) -> int:
        return 8

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Exponential for 5xx, concurrency 429s and dropped connections; at once after a 401 refresh."""
        attempt = 0
        exc = yield 0.0
        while True:
            response = getattr(exc, "response", None)
            if response is not None and response.status_code == 401:
                wait = 0.0
            else:
                wait = min(self.backoff_cap_seconds, self.backoff_base_seconds * (2 ** attempt))
                attempt += 1
            exc = yield wait

    def backoff_jitter(self, value: float) -> float:
        return value + min(0.25, value * 0.1) * (time.perf_counter_ns() % 1000) / 1000

    def backoff_handler(self, details) -> None:  # noqa: ANN001
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        status = response.status_code if response is not None else type(exc).__name__
        self.logger.warning("GA4 %s on report '%s' (try %d): retrying in %.2f s", status, self.name,
                            details.get("tries", 0), details.get("wait", 0.0))
        log = getattr(self._tap, "backoff_log", None)
        if log is not None:
            log.append({"stream": self.name, "status": status, "wait": details.get("wait"),
                        "tries": details.get("tries")})
