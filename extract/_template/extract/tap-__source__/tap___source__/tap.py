"""tap-__source__: the Tap class, its settings and its streams."""
from __future__ import annotations

from singer_sdk import typing as th
from tributary_tap_support.tap import SDK_FAST_PATH, TributaryTap

from tap___source__.client import PAGE_SIZE_MAX, TOKEN_HINT
from tap___source__.streams import CustomersStream


class Tap__Source__(TributaryTap):
    """Singer tap for __Source__. Settings given as text, config errors and one-line failures:
    TributaryTap (extract/tap-support)."""

    name = "tap-__source__"
    setting_hints = {"api_token": TOKEN_HINT}   # a missing token is named with its variable

    config_jsonschema = th.PropertiesList(
        th.Property("api_token", th.StringType, required=True, secret=True,
                    description="__Source__ API token, sent as a bearer token. Env: TAP___SOURCE___API_TOKEN."),
        th.Property("api_url", th.StringType, required=True,
                    description="Base URL of the API (the sandbox: http://127.0.0.1:<port>/__source__/v1)."),
        th.Property("start_date", th.DateTimeType,
                    description="First run only: read records updated at or after this moment (unset = all)."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=PAGE_SIZE_MAX), default=PAGE_SIZE_MAX,
                    description=f"Records per request (the API allows {PAGE_SIZE_MAX} at most)."),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
        SDK_FAST_PATH,
    ).to_dict()

    def discover_streams(self) -> list:
        return [CustomersStream(self)]


if __name__ == "__main__":
    Tap__Source__.main()
