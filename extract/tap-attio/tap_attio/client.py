"""The one place where tap-attio talks HTTP: auth, throttle, paging, errors and back-off."""
from __future__ import annotations

import datetime as dt
import email.utils
import gc
import hashlib
import json
import sys
import threading
import time
import typing as t
import urllib.parse
from functools import cached_property

import msgspec
import requests
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream
from tributary_tap_support.reach import reach

from tap_attio.auth import API_KEY_HINT, attio_authenticator

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

RECORDS_PAGE_MAX = 500   # records/entries query: Attio's documented default; we treat it as the max
NOTES_PAGE_MAX = 50      # GET /notes: documented maximum
TASKS_PAGE_MAX = 500     # GET /tasks: documented default


class AttioAuthError(FatalAPIError):
    """Attio refused the token (401/403). Not retried: the setting has to be fixed."""


class AttioConfigError(Exception):
    """A setting is missing or wrong in a way the API made clear."""


# ---- throttle -------------------------------------------------------------------------------------
class RequestThrottle:
    """Spaces requests at least 1/rate seconds apart (Attio allows 100 reads/s per workspace).

    Spacing rather than a burst bucket: no one-second window can ever see more than `rate`
    requests, and at 500 records a page the tap is far from being slowed by it."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        if not self.interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            sleep(delay)
            return delay
        return 0.0


_THROTTLES: dict[tuple, RequestThrottle] = {}


def throttle_for(api_url: str, api_key: str, rate: float) -> RequestThrottle:
    """One throttle per workspace (token) and URL in this process, however many tap objects."""
    key = (api_url.rstrip("/"), hashlib.sha256(api_key.encode()).hexdigest(), float(rate or 0))
    if key not in _THROTTLES:
        _THROTTLES[key] = RequestThrottle(rate)
    return _THROTTLES[key]


def sleep(seconds: float) -> None:  # patched by tests
    time.sleep(seconds)


# ---- an API that cannot be reached ------------------------------------------------------------------
# A refused connection or an unknown host at first contact is named at once with the URL setting,
# not retried for minutes (tributary_tap_support/reach.py says when it is an outage instead).
DEFAULT_API_URL = "https://api.attio.com/v2"


class AttioUnreachable(FatalAPIError):
    """Nothing listens at the API URL, or its host does not exist: the setting has to be fixed."""


def unreachable(base_url: str, reason: str) -> AttioUnreachable:
    return AttioUnreachable(f"cannot reach the Attio API at {base_url} ({reason}): check TAP_ATTIO_API_URL "
                            f"(default {DEFAULT_API_URL})")


# ---- responses ------------------------------------------------------------------------------------
def payload(response: requests.Response) -> t.Any:
    """The parsed JSON body, parsed once per response (paginator and parser share it)."""
    cached = getattr(response, "_attio_payload", None)
    if cached is None:
        # msgspec on the raw bytes: ~2x the standard library's json and ~3x requests' .json()
        # (simplejson, installed with singer-sdk). Same result as json.loads: floats stay floats
        # (Attio numbers fit; the SDK's Decimal parse is slower still).
        # The cyclic GC is paused while the page is built: a parsed page is a tree of ~30,000
        # fresh containers with no cycles, and collections triggered by those allocations
        # cost twice the parse itself.
        paused = gc.isenabled()
        gc.disable()
        try:
            cached = _decode(response.content)
        except msgspec.DecodeError:
            try:
                cached = json.loads(response.content)   # msgspec is stricter on some edge cases
            except ValueError as exc:
                raise FatalAPIError(
                    f"Attio answered {response.request.method} {response.request.path_url} with a page that is "
                    f"not valid JSON ({exc}; {len(response.content)} bytes, cut off or corrupted on the way). "
                    "The run stopped: what was loaded stays and no record was marked deleted. Fix: run again."
                ) from None
        finally:
            if paused:
                gc.enable()
        response._attio_payload = cached  # type: ignore[attr-defined]
    return cached


_decode = msgspec.json.Decoder().decode


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Attio sends Retry-After as an HTTP date (RFC 7231 IMF-fixdate); seconds are accepted too."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def error_message(response: requests.Response) -> str:
    """`<status> <type>/<code>: <message>` from Attio's error body, or the raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        return (f"{body.get('status_code', response.status_code)} {body.get('type', '')}/"
                f"{body.get('code', '')}: {body['message']}")
    text = (response.text or "").strip()
    return f"{response.status_code} {response.reason}: {text[:300]}"


# ---- writer ---------------------------------------------------------------------------------------
class BufferedMsgSpecWriter(MsgSpecWriter):
    """msgspec encoding without a flush after every RECORD (the pipe is flushed on SCHEMA/STATE
    messages and at exit), the largest single cost after type conformance."""

    def write_message(self, message) -> None:  # noqa: ANN001
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if getattr(message, "type", None) != "RECORD":
            out.flush()


# ---- pages ----------------------------------------------------------------------------------------
class AttioPageError(FatalAPIError):
    """A 200 answer that is not a page of the listing. Never read as "no more rows": the stream
    would then send ACTIVATE_VERSION and the loader mark every unread row deleted."""


def page_rows(stream: AttioStream, response: requests.Response, needs: tuple[str, ...] = ("id",)) -> list[dict]:
    """The page's rows, once the answer is known to be a listing page: a JSON object whose `data`
    is an array of objects, each with the fields paging relies on."""
    body = payload(response)
    rows = body.get("data") if isinstance(body, dict) else None
    problem = None
    if not isinstance(rows, list):
        shape = f"an object with keys {sorted(body)[:8]}" if isinstance(body, dict) else f"a JSON {type(body).__name__}"
        problem = f"no `data` array ({shape})"
    elif any(not isinstance(row, dict) or any(row.get(field) is None for field in needs) for row in rows):
        problem = f"a row without {' or '.join(needs)}"
    if problem:
        raise AttioPageError(
            f"stream '{stream.name}': Attio answered {response.request.method} {response.request.path_url} "
            f"(status {response.status_code}) with {problem}, which is not a page of the listing. The run stopped "
            "before marking any row deleted: what was loaded stays. Fix: run again; if it repeats, Attio's "
            "answer has changed shape (report it with this line).")
    return rows


class ListingMoved(Exception):
    """Rows moved under an offset listing while it was read (one before the page was deleted):
    a row may have been skipped, so the listing is read again."""


# ---- paging ---------------------------------------------------------------------------------------
class NextTokenFromParse(BaseAPIPaginator):
    """The next page's token as the stream's parse_response worked it out from the page, before
    post_process reshaped its rows (the stream's `next_token`); None ends the listing."""

    def __init__(self, stream: AttioStream, start_value: t.Any) -> None:
        super().__init__(start_value)
        self.stream = stream

    def get_next(self, response: requests.Response) -> t.Any:
        return self.stream.next_token


def keyset_token(rows: list[dict], current: tuple[str, int] | None) -> tuple[str, int]:
    """Keyset paging for the query endpoints, sorted by `created_at`: each page asks for rows
    created at or after the last row seen, skipping (offset) the rows already seen at that very
    instant. A record deleted earlier in the listing cannot shift the rows still to come (offset
    paging then skips a live record, which the loader would mark deleted), records created during
    the run sort last, and only an empty page ends the listing (a short page in the middle of it
    does not). The token: (created_at of the last row, rows seen at that instant)."""
    last = rows[-1]["created_at"]
    seen_at_last = sum(1 for row in rows if row["created_at"] == last)
    if current and current[0] == last:
        seen_at_last += current[1]
    return last, seen_at_last


def path_segment(slug: str) -> str:
    """An object's or list's slug as one segment of a URL path. Attio makes slugs snake_case, but
    the slug is the workspace's data: a `/`, `?` or `#` in it must not reach another endpoint."""
    return urllib.parse.quote(slug, safe="")


# ---- base stream ----------------------------------------------------------------------------------
class AttioStream(RESTStream):
    """Base for every Attio stream: bearer auth, throttle, Attio's error body, Retry-After."""

    page_size: int | None = None          # None = endpoint is not paged
    backoff_base_seconds = 1.0             # 1, 2, 4, 8 ... for 5xx / dropped connections
    backoff_cap_seconds = 60.0

    @property
    def url_base(self) -> str:
        return (self.config.get("api_url") or DEFAULT_API_URL).rstrip("/")

    @property
    def timeout(self) -> float:
        return float(self.config.get("request_timeout") or 300)

    @cached_property
    def authenticator(self):  # noqa: ANN201
        return attio_authenticator(self.config["api_key"])

    @property
    def http_headers(self) -> dict:
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @cached_property
    def user_agent(self) -> str:
        return self.config.get("user_agent") or "tap-attio/0.1 (+Tributary)"

    @cached_property
    def throttle(self) -> RequestThrottle:
        return throttle_for(self.url_base, self.config["api_key"], self.config.get("max_requests_per_second", 80))

    # -- requests --------------------------------------------------------------------------------
    def _request(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        def send() -> requests.Response:
            self.throttle.wait()
            return super(AttioStream, self)._request(prepared_request, context)

        return reach(send, self.url_base, unreachable)

    def validate_response(self, response: requests.Response) -> None:
        code = response.status_code
        if code < 400:
            return
        msg = error_message(response)
        if code in (401, 403):
            raise AttioAuthError(f"Attio rejected the API key ({msg}): {API_KEY_HINT}.")
        if code == 429 or code >= 500:
            raise RetriableAPIError(f"{self.path}: {msg}", response)
        raise FatalAPIError(f"Attio answered {self.http_method} {self.path} with {msg}")

    def backoff_max_tries(self) -> int:
        return 8

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """429: wait until Retry-After; 5xx and dropped connections: exponential."""
        attempt = 0
        exc = yield 0.0  # primed by backoff with None
        while True:
            wait = None
            response = getattr(exc, "response", None)
            if response is not None and response.status_code == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is None:
                    wait = 1.0
            if wait is None:
                wait = min(self.backoff_cap_seconds, self.backoff_base_seconds * (2 ** attempt))
            attempt += 1
            exc = yield wait

    def backoff_jitter(self, value: float) -> float:
        # Only ever add: a Retry-After is a floor, not a hint.
        return value + min(0.25, value * 0.1) * (time.perf_counter_ns() % 1000) / 1000

    def backoff_handler(self, details) -> None:  # noqa: ANN001
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        status = response.status_code if response is not None else type(exc).__name__
        retry_after = response.headers.get("Retry-After") if response is not None else None
        self.logger.warning(
            "Attio %s on %s (try %d): waiting %.2f s%s", status, self.path, details.get("tries", 0),
            details.get("wait", 0.0), f" (Retry-After: {retry_after})" if retry_after else "")
        log = getattr(self._tap, "backoff_log", None)
        if log is not None:
            log.append({"stream": self.name, "status": status, "wait": details.get("wait"),
                        "retry_after": retry_after, "tries": details.get("tries")})

    def response_error_message(self, response: requests.Response) -> str:
        return error_message(response)

    # -- deletions ---------------------------------------------------------------------------------
    @property
    def emit_activate_version_messages(self) -> bool:
        # The SDK would send ACTIVATE_VERSION *before* reading, so a run that fails half-way
        # leaves the loader with the unread rows marked deleted. We send it after the last page
        # instead (get_records), the Singer pattern for full-table streams.
        return False

    def _activate_version_wanted(self) -> bool:
        return bool(self.config.get("emit_activate_version_messages", True)) and self.parent_stream_type is None

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if not self._activate_version_wanted():
            yield from self.whole_listing(context)
            return
        version = getattr(self._tap, "run_version", None) or int(time.time() * 1000)
        self._stream_version = version
        yield from self.whole_listing(context)
        # Reached only once every page was read and checked: deletions follow a complete listing
        if self.selected:
            self._write_activate_version_message(version)

    def whole_listing(self, context: Context | None) -> t.Iterable[dict]:
        yield from super().get_records(context)

    # -- paging and parsing -----------------------------------------------------------------------
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None  # one answer holds the whole listing (members, objects, lists, attributes)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        return page_rows(self, response)


class AttioGetPagedStream(AttioStream):
    """GET endpoints paged with ?limit&offset (notes, tasks), each page overlapping the last."""

    listing_attempts = 3  # reads of a listing whose rows keep moving, before the run fails

    # Each page after the first starts one row early, at the previous page's last row: the GET
    # listings take no filter to page by. Were that row not there, rows have moved (a deletion
    # before it) and one may have been skipped: the listing is read again (ListingMoved). A page
    # holding only that row ends the listing. The token: (offset, the id expected first).
    def get_new_paginator(self) -> BaseAPIPaginator:
        return NextTokenFromParse(self, (0, None))

    @staticmethod
    def row_key(row: dict) -> str:
        return json.dumps(row["id"], sort_keys=True)

    def get_url_params(self, context: Context | None, next_page_token: tuple[int, str | None] | None) -> dict:
        self._page_token = next_page_token or (0, None)
        return {"limit": self.page_size, "offset": self._page_token[0]}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        rows = page_rows(self, response)
        offset, expected = self._page_token
        seen = 0  # rows of this page the previous page sent (the overlap, and any inserted before it)
        if expected is not None:
            keys = [self.row_key(row) for row in rows]
            if expected not in keys:
                raise ListingMoved  # rows moved back: one may have been skipped
            seen = keys.index(expected) + 1  # rows inserted before it only repeat rows already sent
        self.next_token = (offset + len(rows) - 1, self.row_key(rows[-1])) if rows else None
        return rows[seen:]

    def whole_listing(self, context: Context | None) -> t.Iterable[dict]:
        for attempt in range(1, self.listing_attempts + 1):
            try:
                yield from super().whole_listing(context)
                return
            except ListingMoved:
                # rows read so far are live and stay (the loader upserts); the next read is whole
                self.logger.warning("stream '%s': rows moved while the listing was read (a %s deleted "
                                    "meanwhile); reading it again (%d of %d)", self.name, self.name.rstrip("s"),
                                    attempt, self.listing_attempts)
        raise FatalAPIError(
            f"stream '{self.name}': rows kept moving while the listing was read ({self.listing_attempts} reads), "
            "so it cannot be known complete. The run stopped before marking any row deleted: what was loaded "
            "stays. Fix: run again when the workspace is quieter.")


class AttioQueryStream(AttioStream):
    """POST .../query endpoints (records, list entries) paged with limit/offset in the body."""

    http_method = "POST"  # type: ignore[assignment]

    @property
    def page_size(self) -> int:  # type: ignore[override]
        return int(self.config.get("page_size") or RECORDS_PAGE_MAX)

    def query_filter(self) -> dict | None:
        start = self.config.get("start_date")
        return {"created_at": {"$gte": start}} if start else None

    def get_new_paginator(self) -> BaseAPIPaginator:
        return NextTokenFromParse(self, None)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        rows = page_rows(self, response, needs=("id", "created_at"))
        self.next_token = keyset_token(rows, self._page_token) if rows else None
        return rows

    def prepare_request_payload(self, context: Context | None, next_page_token: tuple[str, int] | None) -> dict:
        self._page_token = next_page_token
        after, seen_at_after = next_page_token or (None, 0)
        filters = [flt for flt in (self.query_filter(), after and {"created_at": {"$gte": after}}) if flt]
        body: dict[str, t.Any] = {
            "limit": self.page_size,
            "offset": seen_at_after,
            "sorts": [{"attribute": "created_at", "direction": "asc"}],
        }
        if filters:
            body["filter"] = filters[0] if len(filters) == 1 else {"$and": filters}
        return body
