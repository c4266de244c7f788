"""Shopify end to end: tap-shopify → target-postgres → dbt, run by Meltano against the sandbox's
GraphQL Admin API, the warehouse held against the shop's own books."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from incremental import an_hour_passes, assert_a_full_refresh_changes_nothing, inserted_rows
from this_worker import WAREHOUSE

PIPELINE = ("run", "tap-shopify", "target-postgres")
# The order's nested arrays, built incrementally (transform/macros/incremental/incremental.sql).
ORDER_ELEMENT_MODELS = ("stg_shopify__order_lines", "stg_shopify__order_discount_applications",
                        "stg_shopify__order_shipping_lines", "stg_shopify__order_tax_lines", "stg_shopify__refunds",
                        "stg_shopify__refund_lines", "stg_shopify__transactions")


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
    assert_a_full_refresh_changes_nothing(stack, "shopify", len(ORDER_ELEMENT_MODELS))  # the build was incremental


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


@pytest.mark.slow  # two more job runs; the full-refresh check is in make test too
def test_an_hourly_build_rebuilds_only_the_changed_orders_and_equals_a_full_refresh(stack, first_run):
    """Hourly runs after changes, deletions among them: the order-element tables replace the changed
    orders' rows, drop the deleted order's, leave every other order's alone, and hold exactly what a
    full rebuild from all of history gives."""
    an_hour_passes(stack, [("raw_shopify.orders", "_sdc_batched_at"), ("raw_shopify.orders", "_sdc_deleted_at"),
                           *((f"staging.{model}", "_loaded_at") for model in ORDER_ELEMENT_MODELS)])
    lines_before = stack.scalar("select count(*) from staging.stg_shopify__order_lines")
    deleted = []
    for change in ({"orders_updated": 2, "orders_deleted": 1}, {"orders_created": 1, "refunds": 1, "orders_deleted": 1}):
        changed = stack.sandbox("POST", "/_sandbox/shopify/mutate", change)
        deleted += changed["orders_deleted"]
        result = stack.meltano("run", "shopify")
        assert result.ok, result.output[-4000:]
    assert len(deleted) == 2, deleted

    # the last build inserted the lines of the orders these two runs loaded, not the shop's history
    reloaded_lines = stack.scalar("""select coalesce(sum(cardinality("lineItems")), 0) from raw_shopify.orders
                                     where _sdc_batched_at > (now() at time zone 'UTC') - interval '30 minutes'
                                     and _sdc_deleted_at is null""")
    assert 0 < inserted_rows(result.output, "stg_shopify__order_lines") == reloaded_lines < lines_before / 4
    deleted_ids = [int(gid.rsplit("/", 1)[1]) for gid in deleted]
    assert stack.scalar("select count(*) from staging.stg_shopify__order_lines where order_id = any(%s)",
                        (deleted_ids,)) == 0
    assert stack.scalar("select count(*) from marts.shopify__orders") == len(shop_orders(stack))

    assert_a_full_refresh_changes_nothing(stack, "shopify", len(ORDER_ELEMENT_MODELS))


def test_a_table_built_by_other_code_is_rebuilt_whole(stack, first_run):
    """An incremental table records a digest of the code that built it; when the models' code has
    changed since (a new version of a macro, say), the next build rebuilds the whole table in
    place, so no row made by the old code stays. Here the old code's work is a wrong line name."""
    digest = stack.scalar("select obj_description('staging.stg_shopify__order_lines'::regclass, 'pg_class')")
    assert digest.startswith("tributary-code:")
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
        conn.execute("update staging.stg_shopify__order_lines set line_name = 'built by old code'")
        conn.execute("comment on table staging.stg_shopify__order_lines is 'tributary-code:an older version'")
    result = stack.meltano("invoke", "dbt:build_shopify")
    assert result.ok, result.output[-4000:]
    assert stack.scalar("select count(*) from staging.stg_shopify__order_lines where line_name = 'built by old code'") == 0
    assert stack.scalar("select obj_description('staging.stg_shopify__order_lines'::regclass, 'pg_class')") == digest
    assert inserted_rows(result.output, "stg_shopify__order_lines") == stack.scalar(
        "select count(*) from staging.stg_shopify__order_lines")
