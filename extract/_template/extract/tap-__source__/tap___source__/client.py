"""The one place where tap-__source__ talks HTTP: base URL, bearer token, paging, errors, retries.

Made from the project's source template (extract/ADDING-A-SOURCE.md). The API it speaks is the
one the sandbox simulates (extract/sandbox/tributary_sandbox/vendors/__source__/):

    GET <api_url>/customers?updated_since=<ISO 8601>&limit=<1..100>&cursor=<opaque>
    Authorization: Bearer <api_token>
    → {"data": [...], "next_cursor": "<opaque>" | null}, oldest updated_at first
    → 401 {"error": {"type": ..., "message": ...}} for a bad token; 429 / 5xx are transient

Where the real vendor differs (another paging style, error body or header), change it here once;
every stream inherits it.
"""
from __future__ import annotations

import typing as t
from functools import cached_property

import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import JSONPathPaginator
from singer_sdk.streams import RESTStream
from tributary_tap_support.reach import reach

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

PAGE_SIZE_MAX = 100   # the API's documented maximum `limit`
TOKEN_HINT = ("set TAP___SOURCE___API_TOKEN to a valid __Source__ API token "
              "(prod: in .env, see .env.example; dev: the sandbox's token is in meltano.yml)")


# ---- an API that cannot be reached ------------------------------------------------------------------
# A refused connection or an unknown host at first contact is named at once with the URL setting,
# not retried for minutes (tributary_tap_support/reach.py says when it is an outage instead).
class __Source__Unreachable(FatalAPIError):
    """Nothing listens at the API URL, or its host does not exist: the setting has to be fixed."""


def unreachable(base_url: str, reason: str) -> __Source__Unreachable:
    return __Source__Unreachable(
        f"cannot reach the __Source__ API at {base_url} ({reason}): check TAP___SOURCE___API_URL")


class __Source__AuthError(FatalAPIError):
    """The API refused the token (401/403). Never retried: only a new token helps."""


def error_text(response: requests.Response) -> str:
    """`<status> <type>: <message>` from the API's error body, else the status line.
    Never the request itself: its headers carry the token."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{response.status_code} {error.get('type', '')}: {error.get('message', '')}".strip()
    return f"{response.status_code} {response.reason}"


class __Source__Stream(RESTStream):
    """Base of every __Source__ stream: auth, cursor paging, the API's errors, Retry-After."""

    records_jsonpath = "$.data[*]"
    backoff_base_seconds = 1.0    # 5xx and dropped connections: 1, 2, 4, … s (tests shorten it)

    @property
    def url_base(self) -> str:
        return self.config["api_url"].rstrip("/")

    @cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_token"])

    @property
    def http_headers(self) -> dict:
        return {"Accept": "application/json",
                "User-Agent": self.config.get("user_agent") or "tap-__source__/0.1 (+Tributary)"}

    def _request(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        return reach(lambda: super(__Source__Stream, self)._request(prepared_request, context), self.url_base, unreachable)

    # -- paging: the API hands back an opaque cursor until the last page ------------------------
    def get_new_paginator(self) -> JSONPathPaginator:
        return JSONPathPaginator("$.next_cursor")

    def get_url_params(self, context: Context | None, next_page_token: str | None) -> dict:
        params: dict[str, t.Any] = {"limit": self.config.get("page_size") or PAGE_SIZE_MAX}
        if next_page_token:
            params["cursor"] = next_page_token
        if self.replication_key:
            # The bookmark from the last run, else start_date: only what changed since is read.
            since = self.get_starting_timestamp(context)
            if since is not None:
                params["updated_since"] = since.isoformat().replace("+00:00", "Z")
        return params

    # -- errors: a bad token is named, transient failures are retried ---------------------------
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            raise __Source__AuthError(f"__Source__ refused the API token ({error_text(response)}): {TOKEN_HINT}.")
        if status == 429 or status >= 500:
            raise RetriableAPIError(f"{self.path}: {error_text(response)}", response)
        raise FatalAPIError(f"__Source__ answered GET {self.path} with {error_text(response)}")

    def backoff_max_tries(self) -> int:
        return 6

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """429: as long as Retry-After says (seconds); otherwise exponential."""
        attempt = 0
        exc = yield 0.0   # primed by the backoff library
        while True:
            response = getattr(exc, "response", None)
            retry_after = response.headers.get("Retry-After") if response is not None else None
            if retry_after and retry_after.strip().isdigit():
                wait = float(retry_after)
            else:
                wait = min(60.0, self.backoff_base_seconds * 2 ** attempt)
            attempt += 1
            exc = yield wait
