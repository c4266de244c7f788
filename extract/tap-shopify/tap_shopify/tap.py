"""tap-shopify: the Tap class, its settings and its streams."""
from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import typing as th
from tributary_tap_support.tap import SDK_FAST_PATH, TributaryTap

from tap_shopify import queries as q
from tap_shopify.client import ShopifyClient
from tap_shopify.streams import InventoryLevelsStream, LocationsStream, ShopifyStream

DEFAULT_API_VERSION = "2026-10"

# name, resource, incremental, sorted by updatedAt on the server, bulk-capable, class
STREAMS = (
    ("orders", True, True, True, ShopifyStream),
    ("customers", True, True, True, ShopifyStream),
    ("products", True, True, True, ShopifyStream),
    ("product_variants", True, False, False, ShopifyStream),     # no UPDATED_AT sort key: bookmark = max, kept at the end
    ("inventory_items", True, False, False, ShopifyStream),
    ("locations", False, False, False, LocationsStream),
    ("inventory_levels", False, False, False, InventoryLevelsStream),
    ("collections", True, True, False, ShopifyStream),
    ("abandoned_checkouts", True, False, False, ShopifyStream),
)


class TapShopify(TributaryTap):
    """Singer tap for the Shopify Admin GraphQL API."""

    name = "tap-shopify"
    setting_hints = {"shop": "set TAP_SHOPIFY_SHOP"}

    config_jsonschema = th.PropertiesList(
        th.Property("shop", th.StringType, required=True,
                    description="Shop name or myshopify domain (acme or acme.myshopify.com)."),
        th.Property("api_version", th.StringType, default=DEFAULT_API_VERSION,
                    description="Admin API version (YYYY-MM). Every query is validated against it in the tests."),
        th.Property("access_token", th.StringType, secret=True,
                    description="Admin API access token of a custom app (shpat_...). Env: TAP_SHOPIFY_ACCESS_TOKEN. "
                                "Or leave unset and give client_id + client_secret."),
        th.Property("client_id", th.StringType,
                    description="App client id for the client-credentials grant (tokens live 24 h, renewed before expiry)."),
        th.Property("client_secret", th.StringType, secret=True, description="App client secret."),
        th.Property("api_url", th.StringType,
                    description="Base URL override; default https://{shop}.myshopify.com (sandbox: http://127.0.0.1:<port>/shopify)."),
        th.Property("start_date", th.DateTimeType,
                    description="Sync records updated at or after this moment (first run; later runs use the bookmark)."),
        th.Property("use_bulk", th.StringType, default="auto", allowed_values=["auto", "always", "never"],
                    description="Bulk operations for orders, customers and products: auto = when a run has at least "
                                "bulk_threshold records to read (counted first, 1-2 points), always, never."),
        th.Property("bulk_threshold", th.IntegerType, default=10000,
                    description="Records to read from which `auto` uses a bulk operation."),
        th.Property("bulk_poll_interval", th.NumberType, default=5,
                    description="Seconds between polls of a running bulk operation."),
        th.Property("bulk_timeout", th.NumberType, default=21600,
                    description="Give up waiting for a bulk operation after this many seconds."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=q.MAX_PAGE), default=q.MAX_PAGE,
                    description="Largest page (first:) to ask for; smaller pages are used where a page would "
                                "request more than 1,000 cost points."),
        th.Property("request_timeout", th.NumberType, default=300, description="HTTP timeout, seconds."),
        th.Property("emit_activate_version_messages", th.BooleanType, default=True,
                    description="Send ACTIVATE_VERSION after each complete listing of the full-table streams "
                                "(locations, inventory levels), so the loader marks the rows not listed deleted."),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
        SDK_FAST_PATH,
    ).to_dict()

    @classmethod
    def check_settings(cls, config: t.Mapping[str, t.Any]) -> list[str]:
        problems = []
        if not config.get("access_token") and not (config.get("client_id") and config.get("client_secret")):
            problems.append("No Shopify credentials: set TAP_SHOPIFY_ACCESS_TOKEN, or TAP_SHOPIFY_CLIENT_ID and "
                            "TAP_SHOPIFY_CLIENT_SECRET (client-credentials grant).")
        version = config.get("api_version") or DEFAULT_API_VERSION
        if not (len(version) == 7 and version[4] == "-" and version.replace("-", "").isdigit()):
            problems.append(f"api_version must look like 2026-10 (got {version!r}): set TAP_SHOPIFY_API_VERSION.")
        return problems

    @cached_property
    def client(self) -> ShopifyClient:
        return ShopifyClient(self.config)

    def discover_streams(self) -> list:
        out = []
        for name, incremental, sorted_, bulk, cls in STREAMS:
            out.append(cls(self, name, q.RESOURCES[name], incremental=incremental, sorted_=sorted_, bulk_capable=bulk))
        return out



if __name__ == "__main__":
    TapShopify.main()
