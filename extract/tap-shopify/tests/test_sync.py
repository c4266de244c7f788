"""Completeness, money, bulk = paged, and incremental state, against the simulator."""
from __future__ import annotations

from decimal import Decimal

from tap_shopify import queries as q
from tests.runner import run_tap
from tributary_sandbox.vendors.shopify import control


def _amount(bag: dict | None) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"]) if bag else Decimal(0)


def test_order_with_more_line_items_than_a_page_arrives_whole(sandbox):
    out = run_tap(sandbox.config(), only={"orders"})
    counts = sandbox.call(control.counts, sandbox.state)
    orders = {r["id"]: r for r in out.records("orders")}
    assert len(orders) == counts["orders"]
    assert sum(len(r["lineItems"]) for r in orders.values()) == counts["line_items"]
    truth = sandbox.call(control.truth, sandbox.state)
    for big in counts["big_orders"]:
        assert len(orders[big]["lineItems"]) == truth[big]["line_items"] > q.MAX_PAGE
        ids = [li["id"] for li in orders[big]["lineItems"]]
        assert len(set(ids)) == len(ids)


def test_money_reconciles_to_the_cent(sandbox):
    out = run_tap(sandbox.config(), only={"orders"})
    truth = sandbox.call(control.truth, sandbox.state)
    discounted = refunded = 0
    for o in out.records("orders"):
        t = truth[o["id"]]
        lines = sum(_amount(li["originalTotalSet"]) - _amount(li["totalDiscountSet"]) for li in o["lineItems"])
        assert lines == _amount(o["subtotalPriceSet"]) == Decimal(t["subtotal"])
        ship = sum(_amount(s["originalPriceSet"]) for s in o["shippingLines"])
        tax = sum(_amount(tl["priceSet"]) for li in o["lineItems"] for tl in li["taxLines"])
        assert tax == _amount(o["totalTaxSet"])
        assert lines + ship + tax == _amount(o["totalPriceSet"]) == Decimal(t["total"])
        assert sum(_amount(li["totalDiscountSet"]) for li in o["lineItems"]) == _amount(o["totalDiscountsSet"])
        discounted += bool(o["discountApplications"])
        for rf in o["refunds"]:
            refunded += 1
            by_lines = sum(_amount(x["subtotalSet"]) + _amount(x["totalTaxSet"]) for x in rf["refundLineItems"])
            by_tx = sum(_amount(x["amountSet"]) for x in rf["transactions"])
            assert by_lines == by_tx == _amount(rf["totalRefundedSet"])
            line_ids = {li["id"] for li in o["lineItems"]}
            assert all(x["lineItem"]["id"] in line_ids for x in rf["refundLineItems"])
        sale = sum(_amount(x["amountSet"]) for x in o["transactions"] if x["kind"] == "SALE")
        assert sale == _amount(o["totalPriceSet"])
        assert o["legacyResourceId"] == int(o["id"].rsplit("/", 1)[1])
    assert discounted and refunded


def test_customers_are_the_worlds_shoppers(sandbox):
    from tributary_sandbox.world import shopify_customer_id
    out = run_tap(sandbox.config(), only={"customers"})
    ids = {r["legacyResourceId"] for r in out.records("customers")}
    shoppers = {int(shopify_customer_id(o.person)) for o in sandbox.state.world.orders}
    assert ids == shoppers
    c = out.records("customers")[0]
    assert c["defaultEmailAddress"]["marketingState"] and c["addressesV2"]


def test_bulk_backfill_equals_paged_backfill(sandbox):
    streams = {"orders", "customers", "products"}
    paged = run_tap(sandbox.config(use_bulk="never"), only=streams)
    taps = []
    bulk = run_tap(sandbox.config(use_bulk="always"), only=streams, tap_out=taps)
    assert sandbox.state.requests["bulk_runs"] == 3
    assert {s.name: s.last_mode for s in taps[0].streams.values() if s.selected} == dict.fromkeys(streams, "bulk")
    for name in streams:
        a = sorted(paged.records(name), key=lambda r: r["id"])
        b = sorted(bulk.records(name), key=lambda r: r["id"])
        assert len(a) == len(b) > 0
        assert a == b, name
    assert paged.states()[-1]["bookmarks"]["orders"]["replication_key_value"] == \
        bulk.states()[-1]["bookmarks"]["orders"]["replication_key_value"]


def test_auto_uses_bulk_above_the_threshold(sandbox):
    taps = []
    run_tap(sandbox.config(use_bulk="auto", bulk_threshold=100), only={"orders", "customers"}, tap_out=taps)
    modes = {s.name: s.last_mode for s in taps[0].streams.values() if s.selected}
    assert modes == {"orders": "bulk", "customers": "paged"}      # 300 orders, 38 customers


def test_failed_bulk_operation_falls_back_to_paged(sandbox):
    sandbox.faults({"vendor": "shopify", "kind": "bulk_fail"})
    paged = run_tap(sandbox.config(), only={"orders"})
    taps = []
    out = run_tap(sandbox.config(use_bulk="always"), only={"orders"}, tap_out=taps)
    assert taps[0].streams["orders"].last_mode == "paged"
    assert sorted(r["id"] for r in out.records("orders")) == sorted(r["id"] for r in paged.records("orders"))


def test_bulk_waits_for_an_operation_already_running(sandbox):
    sandbox.faults({"vendor": "shopify", "kind": "bulk_busy", "polls": 3})
    taps = []
    out = run_tap(sandbox.config(use_bulk="always"), only={"products"}, tap_out=taps)
    assert taps[0].streams["products"].last_mode == "bulk"
    assert len(out.records("products")) == sandbox.call(control.counts, sandbox.state)["products"]
    assert sandbox.state.requests["bulk_runs"] == 1


def test_incremental_emits_changes_once_and_state_moves_by_pages(sandbox):
    first = run_tap(sandbox.config(), only={"orders"})
    state = first.states()[-1]
    n_first = len(first.records("orders"))
    # every STATE bookmark is the updatedAt of the last record of an emitted page
    page = q.RESOURCES["orders"].page_size("2026-10", 250)
    recs = first.records("orders")
    page_ends = {recs[i]["updatedAt"] for i in range(page - 1, len(recs), page)} | {recs[-1]["updatedAt"]}
    marks = {s["bookmarks"]["orders"]["replication_key_value"] for s in first.states()
             if s.get("bookmarks", {}).get("orders", {}).get("replication_key_value")}
    assert marks and marks <= page_ends

    again = run_tap(sandbox.config(), only={"orders"}, state=state)
    assert again.records("orders") == [], "nothing changed: nothing re-emitted (no boundary duplicates)"

    changed = sandbox.call(sandbox.state.mutate, orders_updated=2, orders_created=1, refunds=1)
    third = run_tap(sandbox.config(), only={"orders"}, state=again.states()[-1])
    got = [r["id"] for r in third.records("orders")]
    expect = changed["orders_updated"] + changed["orders_created"] + changed["refunds"]
    assert sorted(got) == sorted(expect)
    refunded = next(r for r in third.records("orders") if r["id"] == changed["refunds"][0])
    assert refunded["refunds"] and refunded["displayFinancialStatus"] in ("PARTIALLY_REFUNDED", "REFUNDED")
    assert n_first == 300
