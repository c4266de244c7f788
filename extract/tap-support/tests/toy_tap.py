"""tap-toy: the smallest tap on tap-support's bases, for its tests (run in-process, or as
`python -m tests.toy_tap --config …` for main()).

Its `rows` stream yields three records built to its schema, or fails as the `fail` setting says.
Its `items` stream (only with the api_url setting) reads GET <api_url>/items through TributaryRESTStream.
"""
from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel

from tributary_tap_support.streams import TributaryRESTStream, TributaryStream
from tributary_tap_support.tap import SDK_FAST_PATH, TributaryTap


class QuotaSpent(FatalAPIError):
    """Stands in for GA4's QuotaExhausted: its own exit code."""


FAILURES: dict[str, Exception] = {
    "fatal": FatalAPIError("the toy API refused: check TAP_TOY_API_KEY"),
    "quota": QuotaSpent("toy quota spent; run again tomorrow"),
    "retriable": RetriableAPIError("503 toy outage"),
    "bug": ZeroDivisionError("not ours to word"),
}


class RowsStream(TributaryStream):
    name = "rows"
    primary_keys = ("id",)
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE   # built to the schema: the fast path applies
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType, required=True),
        th.Property("secret", th.StringType),
        th.Property("nested", th.ObjectType(th.Property("a", th.IntegerType), th.Property("b", th.IntegerType))),
        th.Property("values", th.ObjectType()),
    ).to_dict()

    def get_records(self, context: dict | None) -> t.Iterable[dict]:
        failure = self.config.get("fail")
        if failure:
            raise FAILURES[failure]
        for n in range(3):
            yield {"id": n, "secret": f"s{n}", "nested": {"a": n, "b": -n}, "values": {"deep": {"x": [n]}}}


class ItemsStream(TributaryRESTStream):
    name = "items"
    path = "/items"
    primary_keys = ("id",)
    records_jsonpath = "$.data[*]"
    vendor = "Toy"
    api_title = "Toy API"
    default_api_url = "https://api.toy.example/v1"
    backoff_base_seconds = 0.01
    schema = th.PropertiesList(th.Property("id", th.IntegerType, required=True)).to_dict()


class TapToy(TributaryTap):
    name = "tap-toy"
    setting_hints = {"api_key": "set TAP_TOY_API_KEY (the toy's key)"}
    exit_codes = {QuotaSpent: 75}
    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True),
        th.Property("api_url", th.StringType),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=10), default=5),
        th.Property("names", th.ArrayType(th.StringType)),
        th.Property("fail", th.StringType),
        SDK_FAST_PATH,
    ).to_dict()

    @classmethod
    def check_settings(cls, config: t.Mapping[str, t.Any]) -> list[str]:
        return ["api_key 'forbidden' is the toy's example key: set TAP_TOY_API_KEY"] \
            if config.get("api_key") == "forbidden" else []

    def discover_streams(self) -> list:
        return [RowsStream(self), *([ItemsStream(self)] if self.config.get("api_url") else [])]


if __name__ == "__main__":
    TapToy.main()
