"""tap-__source__: the Tap class, its settings and its streams."""
from __future__ import annotations

import sys

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

from tap___source__.client import PAGE_SIZE_MAX, TOKEN_HINT
from tributary_tap_support.settings import typed_settings
from tap___source__.streams import CustomersStream


class Tap__Source__(Tap):
    """Singer tap for __Source__."""

    name = "tap-__source__"

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
    ).to_dict()

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """A missing or malformed token is named with its variable, not as a JSON-schema path."""
        # Number and list settings come from Meltano as text (tributary_tap_support/settings.py says why).
        typing_errors = typed_settings(self._config, self.config_jsonschema, self.name)
        if typing_errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=typing_errors,
                                        schema=self.config_jsonschema)
        try:
            return super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            errors = [f"{error}: {TOKEN_HINT}" if "api_token" in error else error for error in exc.errors]
            raise ConfigValidationError(str(exc), errors=errors, schema=exc.schema) from None

    def discover_streams(self) -> list:
        return [CustomersStream(self)]


def cli() -> None:
    """Console entry point: the SDK's CLI, with the API's refusals reported in one line."""
    try:
        Tap__Source__.cli()
    except FatalAPIError as exc:   # a refused token included: one line, no traceback
        Tap__Source__.logger.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    cli()
