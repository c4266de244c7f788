"""The stream bases of our taps.

TributaryStream: any stream (tap-shopify's, which run their own GraphQL client). TributaryRESTStream:
a stream of an HTTP API through the SDK's RESTStream, with what every such tap of ours does the
same way, through the SDK's public hooks:
- `request_decorator`: each try waits for the stream's pace (`before_request`, e.g. Attio's
  throttle) and a URL nothing answers at is named at once with the URL setting (reach.py);
- `validate_response`: 401/403 refused at once (`refused`: the tap's error naming the setting),
  429 and 5xx retried, any other error fatal, each in the API's words (`response_error_message`);
- `backoff_wait_generator` (built on `backoff_runtime`), `backoff_jitter`, `backoff_handler`,
  `backoff_max_tries`: Retry-After obeyed, else 1, 2, 4 … s (retry.py), jitter that only adds,
  one log line per retry, each retry noted in the tap's `backoff_log`.
Needs singer_sdk.
"""
from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams import RESTStream, Stream

from tributary_tap_support.reach import reach, unreachable_error, url_setting_fix
from tributary_tap_support.retry import RetryWaits, jitter_up, retry_line
from tributary_tap_support.sdk_private import FastRecordPath

if t.TYPE_CHECKING:
    import requests
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tributary_tap_support.tap import TributaryTap

RETRY_AFTER_STATUSES = (429, 503)   # the answers whose Retry-After header is a wait (RFC 9110)


class TributaryStream(FastRecordPath, Stream):
    """A stream of one of our taps: the per-record speed-ups (sdk_private.py) and its tap at hand."""

    def __init__(self, tap: TributaryTap, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        self.tap = tap   # the SDK keeps it only as a private attribute
        super().__init__(tap, *args, **kwargs)


class TributaryRESTStream(TributaryStream, RESTStream):
    """A stream of an HTTP API: base URL, headers, first contact, retries and their log."""

    vendor: t.ClassVar[str] = ""       # "Attio": starts each retry's log line
    api_title: t.ClassVar[str] = ""    # "Attio API": named when nothing answers at the URL
    default_api_url: t.ClassVar[str | None] = None   # the URL when the api_url setting is unset
    max_request_tries: t.ClassVar[int] = 8
    backoff_base_seconds: t.ClassVar[float] = 1.0    # 1, 2, 4 … s (tests shorten it)
    backoff_cap_seconds: t.ClassVar[float] = 60.0

    @property
    def url_base(self) -> str:
        return (self.config.get("api_url") or self.default_api_url or "").rstrip("/")

    @property
    def timeout(self) -> float:  # type: ignore[override]
        return float(self.config.get("request_timeout") or 300)

    @cached_property
    def user_agent(self) -> str:
        return self.config.get("user_agent") or f"{self.tap_name}/0.1 (+Tributary)"

    @property
    def http_headers(self) -> dict:
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @property
    def request_label(self) -> str:
        """What a retry's log line says was asked for."""
        return self.path or ""

    # -- each try ----------------------------------------------------------------------------------
    def before_request(self) -> None:
        """Called before each try of each request (Attio waits for its throttle here)."""

    @cached_property
    def unreachable(self) -> t.Callable[[str, str], Exception]:
        return unreachable_error(self.api_title, url_setting_fix(self.tap_name, "api_url", self.default_api_url))

    def request_decorator(self, func: t.Callable) -> t.Callable:
        def first_contact(prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
            def send() -> requests.Response:
                self.before_request()
                return func(prepared_request, context)
            return reach(send, self.url_base, self.unreachable)

        return super().request_decorator(first_contact)

    # -- answers ------------------------------------------------------------------------------------
    def refused(self, reason: str) -> Exception:
        """The error for a 401/403: a tap's names the setting to fix. Never retried."""
        return FatalAPIError(f"{self.vendor} refused the credentials ({reason})")

    def validate_response(self, response: requests.Response) -> None:
        code = response.status_code
        if code < 400:
            return
        error_text = self.response_error_message(response)
        if code in (401, 403):
            raise self.refused(error_text)
        if code == 429 or code >= 500:
            raise RetriableAPIError(f"{self.path}: {error_text}", response)
        raise FatalAPIError(f"{self.vendor} answered {self.http_method} {self.path} with {error_text}")

    # -- retries -----------------------------------------------------------------------------------
    def backoff_max_tries(self) -> int:
        return self.max_request_tries

    def retry_wait(self, exception: Exception) -> float | None:  # noqa: ARG002
        """A stream's own wait for this failure (GA4: none after refreshing a token); None: the
        shared policy (Retry-After, else exponential)."""
        return None

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        waits = RetryWaits(self.backoff_base_seconds, self.backoff_cap_seconds)   # one per request

        def seconds(exception: Exception) -> float:
            own = self.retry_wait(exception)
            if own is not None:
                return own
            response = getattr(exception, "response", None)
            retry_after = (response.headers.get("Retry-After")
                           if response is not None and response.status_code in RETRY_AFTER_STATUSES else None)
            return waits.next(retry_after)

        return self.backoff_runtime(value=seconds)

    def backoff_jitter(self, value: float) -> float:
        return jitter_up(value)

    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        status = response.status_code if response is not None else type(exception).__name__
        retry_after = response.headers.get("Retry-After") if response is not None else None
        self.logger.warning("%s", retry_line(self.vendor, status, self.request_label, details.get("tries", 0),
                                             details.get("wait", 0.0), retry_after))
        self.tap.backoff_log.append({"stream": self.name, "status": status, "wait": details.get("wait"),
                                     "retry_after": retry_after, "tries": details.get("tries")})
