"""The one place where tap-attio talks HTTP: auth, throttle, paging, errors (retries and first
contact: tributary_tap_support.streams)."""
from __future__ import annotations

import gc
import hashlib
import json
import threading
import time
import typing as t
import urllib.parse
from functools import cached_property

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator
from tributary_tap_support.sdk_private import set_stream_version, write_activate_version
from tributary_tap_support.streams import TributaryRESTStream

from tap_attio.auth import API_KEY_HINT, attio_authenticator

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

RECORDS_PAGE_MAX = 500   # records/entries query: Attio's documented default; we treat it as the max
NOTES_PAGE_MAX = 50      # GET /notes: documented maximum
TASKS_PAGE_MAX = 500     # GET /tasks: documented default


DEFAULT_API_URL = "https://api.attio.com/v2"


class AttioAuthError(FatalAPIError):
    """Attio refused the token (401/403). Not retried: the setting has to be fixed."""


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
class AttioStream(TributaryRESTStream):
    """Base for every Attio stream: bearer auth, throttle, Attio's error body. Base URL, first
    contact, which errors are retried, Retry-After (Attio sends an HTTP date) and back-off:
    TributaryRESTStream."""

    vendor = "Attio"
    api_title = "Attio API"
    default_api_url = DEFAULT_API_URL
    page_size: int | None = None          # None = endpoint is not paged

    @cached_property
    def authenticator(self):  # noqa: ANN201
        return attio_authenticator(self.config["api_key"])

    @cached_property
    def throttle(self) -> RequestThrottle:
        return throttle_for(self.url_base, self.config["api_key"], self.config.get("max_requests_per_second", 80))

    # -- requests --------------------------------------------------------------------------------
    def before_request(self) -> None:
        self.throttle.wait()

    def response_error_message(self, response: requests.Response) -> str:
        return error_message(response)

    def refused(self, reason: str) -> Exception:
        return AttioAuthError(f"Attio rejected the API key ({reason}): {API_KEY_HINT}.")

    # -- deletions ---------------------------------------------------------------------------------
    @property
    def emit_activate_version_messages(self) -> bool:
        # The SDK would send ACTIVATE_VERSION *before* reading, so a run that fails half-way
        # leaves the loader with the unread rows marked deleted. We send it after the last page
        # instead (get_records), the Singer pattern for full-table streams.
        return False

    def activate_version_wanted(self) -> bool:
        return bool(self.config.get("emit_activate_version_messages", True)) and self.parent_stream_type is None

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        if not self.activate_version_wanted():
            yield from self.whole_listing(context)
            return
        version = self.tap.run_version
        set_stream_version(self, version)
        yield from self.whole_listing(context)
        # Reached only once every page was read and checked: deletions follow a complete listing
        if self.selected:
            write_activate_version(self, version)

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
