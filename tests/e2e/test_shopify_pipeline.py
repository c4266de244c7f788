"""Shopify end to end: tap-shopify → target-postgres → dbt, run by Meltano against the sandbox's
GraphQL Admin API, the warehouse held against the shop's own books."""

from __future__ import annotations

from decimal import Decimal

import pytest

PIPELINE = ("run", "tap-shopify", "target-postgres")


def money(column: str) -> str:
    return f"""("{column}"->'shopMoney'->>'amount')::numeric"""


def loaded_orders(stack) -> dict[str, dict]:
    rows = stack.sql(f"""select id, {money('totalPriceSet')}, {money('totalRefundedSet')}, cardinality("lineItems")
                         from raw_shopify.orders""")
    return {gid: {"total": total, "refunded": refunded, "line_items": lines} for gid, total, refunded, lines in rows}


def shop_orders(stack) -> dict[str, dict]:
    return {gid: {"total": Decimal(o["total"]), "refunded": Decimal(o["refunded"]), "line_items": o["line_items"]}
            for gid, o in stack.sandbox("GET", "/_sandbox/shopify/truth").items()}


@pytest.fixture(scope="module")
def first_run(stack):
    stack.reset()
    result = stack.meltano("run", "shopify")
    assert result.ok, result.output[-4000:]
    return stack.sandbox("GET", "/_sandbox/shopify/counts")


def test_every_order_arrives_whole_and_to_the_cent(stack, first_run):
    assert loaded_orders(stack) == shop_orders(stack)
    for stream in ("customers", "products", "product_variants", "locations", "inventory_levels", "collections",
                   "abandoned_checkouts"):
        assert stack.scalar(f"select count(*) from raw_shopify.{stream}") == first_run[stream], stream


def test_orders_longer_than_a_page_are_not_truncated(stack, first_run):
    for gid in first_run["big_orders"]:
        lines = stack.scalar('select cardinality("lineItems") from raw_shopify.orders where id = %s', (gid,))
        assert lines > 250, f"{gid} has {lines} line items"


def test_orders_mart_matches_the_shop(stack, first_run):
    truth = shop_orders(stack)
    assert stack.scalar("select count(*) from marts.shopify__orders") == len(truth)
    assert stack.scalar("select sum(total_price) from marts.shopify__orders") == sum(o["total"] for o in truth.values())


def test_changes_arrive_with_no_duplicates(stack, first_run):
    changed = stack.sandbox("POST", "/_sandbox/shopify/mutate",
                            {"orders_updated": 3, "orders_created": 2, "refunds": 2, "customers_updated": 2})
    result = stack.meltano("run", "shopify")
    assert result.ok, result.output[-4000:]
    assert loaded_orders(stack) == shop_orders(stack)
    assert stack.scalar("select count(*) - count(distinct id) from raw_shopify.orders") == 0
    assert len(changed["orders_created"]) == 2


def test_a_run_with_no_change_moves_nothing(stack, first_run):
    result = stack.meltano(*PIPELINE)
    assert result.ok, result.output[-4000:]
    loaded = result.records_loaded()
    assert loaded.get("orders", 0) == 0 and loaded.get("customers", 0) == 0, loaded


def test_a_wrong_token_is_named(stack, first_run):
    result = stack.meltano(*PIPELINE, env={"TAP_SHOPIFY_ACCESS_TOKEN": "shpat_wrong"})
    assert not result.ok
    assert "TAP_SHOPIFY_ACCESS_TOKEN" in result.output
    assert "shpat_wrong" not in result.output
