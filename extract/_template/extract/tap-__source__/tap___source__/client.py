"""The one place where tap-__source__ talks HTTP: base URL, bearer token, paging, errors, retries.

Made from the project's source template (extract/ADDING-A-SOURCE.md). The API it speaks is the
one the sandbox simulates (extract/sandbox/tributary_sandbox/vendors/__source__/):

    GET <api_url>/customers?updated_since=<ISO 8601>&limit=<1..100>&cursor=<opaque>
    Authorization: Bearer <api_token>
    → {"data": [...], "next_cursor": "<opaque>" | null}, oldest updated_at first
    → 401 {"error": {"type": ..., "message": ...}} for a bad token; 429 / 5xx are transient

Where the real vendor differs (another paging style, error body or header), change it here once;
every stream inherits it. What every tap of ours does alike comes from TributaryRESTStream
(extract/tap-support): base URL and User-Agent from the settings, an API URL nothing answers at
named with TAP___SOURCE___API_URL, 401/403 never retried, 429 and 5xx retried (Retry-After
obeyed, else 1, 2, 4 … s) with one log line each.
"""
from __future__ import annotations

import typing as t
from functools import cached_property

import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import JSONPathPaginator
from tributary_tap_support.streams import TributaryRESTStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

PAGE_SIZE_MAX = 100   # the API's documented maximum `limit`
TOKEN_HINT = ("set TAP___SOURCE___API_TOKEN to a valid __Source__ API token "
              "(prod: in .env, see .env.example; dev: the sandbox's token is in meltano.yml)")


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


class __Source__Stream(TributaryRESTStream):
    """Base of every __Source__ stream: auth, cursor paging, the API's errors."""

    vendor = "__Source__"            # starts each retry's log line
    api_title = "__Source__ API"     # named when nothing answers at TAP___SOURCE___API_URL
    max_request_tries = 6
    records_jsonpath = "$.data[*]"

    @cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_token"])

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

    # -- errors: in the API's words; a refused token names the setting -----------------------------
    # (401/403 are never retried, 429 and 5xx are: TributaryRESTStream.validate_response)
    def response_error_message(self, response: requests.Response) -> str:
        return error_text(response)

    def refused(self, reason: str) -> Exception:
        return __Source__AuthError(f"__Source__ refused the API token ({reason}): {TOKEN_HINT}.")
