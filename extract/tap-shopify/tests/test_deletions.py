"""Deletions reach the warehouse within one run. Incremental streams never see a deleted record
again, so they read Shopify's "destroy" events and send a tombstone per deleted id; the full-table
streams (locations, inventory levels) send ACTIVATE_VERSION after a complete listing."""
from __future__ import annotations

from tests.runner import run_tap
from tributary_sandbox.vendors.shopify import control


def tombstones(out, stream: str) -> list[dict]:
    return [r for r in out.records(stream) if "_sdc_deleted_at" in r]


def test_deleted_orders_customers_and_collections_arrive_as_tombstones_once_read(sandbox):
    streams = {"orders", "customers", "collections"}
    first = run_tap(sandbox.config(), only=streams)
    assert all(not tombstones(first, s) for s in streams)
    deleted = sandbox.call(sandbox.state.mutate, orders_deleted=2, customers_deleted=1, collections_deleted=1)
    assert len(deleted["orders_deleted"]) == 2

    second = run_tap(sandbox.config(), only=streams, state=first.states()[-1])
    for stream, key in (("orders", "orders_deleted"), ("customers", "customers_deleted"),
                        ("collections", "collections_deleted")):
        marks = tombstones(second, stream)
        assert {m["id"] for m in marks} == set(deleted[key]), stream
        assert all(set(m) == {"id", "_sdc_deleted_at"} and m["_sdc_deleted_at"] for m in marks)
    # the bookmark of deletions moved: the next run re-reads from the last deletion's instant only
    state = second.states()[-1]["bookmarks"]["orders"]
    assert state["deletions_after"] == max(m["_sdc_deleted_at"] for m in tombstones(second, "orders"))

    third = run_tap(sandbox.config(), only=streams, state=second.states()[-1])
    assert {m["id"] for m in tombstones(third, "orders")} <= set(deleted["orders_deleted"])
    assert not [r for r in third.records("orders") if "_sdc_deleted_at" not in r and r["id"] in deleted["orders_deleted"]]


def test_locations_and_inventory_levels_end_with_activate_version_of_their_records(sandbox):
    out = run_tap(sandbox.config(), only={"locations", "inventory_levels"})
    for stream in ("locations", "inventory_levels"):
        messages = [m for m in out.messages if m.get("stream") == stream and m["type"] in ("RECORD", "ACTIVATE_VERSION")]
        assert messages[-1]["type"] == "ACTIVATE_VERSION", stream
        versions = {m["version"] for m in messages}
        assert len(versions) == 1 and None not in versions, (stream, versions)
    assert len(out.records("inventory_levels")) == sandbox.call(control.counts, sandbox.state)["inventory_levels"]


def test_no_activate_version_when_the_setting_is_off(sandbox):
    out = run_tap(sandbox.config(emit_activate_version_messages=False), only={"locations", "inventory_levels"})
    assert not [m for m in out.messages if m["type"] == "ACTIVATE_VERSION"]
