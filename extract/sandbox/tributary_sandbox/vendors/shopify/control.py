"""The /_sandbox/shopify/ hooks tests and the demo drive: the changes between runs, the settings,
and the truth a complete copy must equal.

    GET  counts        rows per stream, line items, the orders with more line items than a page
    GET  truth         expected money per order (to reconcile what the tap delivered)
    GET  truth/rows    every top-level row's GID and updatedAt, per stream
    GET  requests      how many GraphQL, token, bulk-download requests, THROTTLED answers and bulk
                       runs; cost points requested and actually used
    POST mutate        {orders_updated, orders_created, refunds, customers_updated, orders_deleted,
                        customers_deleted, collections_deleted}: changes stamped with the sandbox
                        clock's now (also the "mutate" fault's {"change": {...}})
    POST edit          {"orders": [{field: value}], "customers": [...]}: a merchant's edits
    POST throttle      {"maximum"?, "restore_rate"?}: the cost bucket (empties every bucket)
    POST bulk          {"polls"?}: how many polls a bulk operation takes to report its outcome
    POST tokens/expire expire every client-credentials token (also the "expire_tokens" fault)
    POST reset         rebuild the shop from the same world
Faults are the sandbox's rules (POST /_sandbox/faults), not hooks here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ...world import shopify_customer_id
from . import NAME
from .connections import MAX_PAGE
from .data import LOCATIONS, TAX_BP, OrderRec, gid, iso, money

if TYPE_CHECKING:
    from . import Simulator

# stream (the tap's, = the raw table) -> (the shop's table, the GID kind of its rows)
TRUTH_TABLES = {"orders": ("orders", "Order"), "customers": ("customers", "Customer"),
                "products": ("products", "Product"), "product_variants": ("productVariants", "ProductVariant"),
                "inventory_items": ("inventoryItems", "InventoryItem"), "locations": ("locations", "Location"),
                "collections": ("collections", "Collection"),
                "abandoned_checkouts": ("abandonedCheckouts", "AbandonedCheckout")}

# fields an edit may not touch: identities and timestamps (the shop keeps those itself)
FIXED_FIELDS = {"__typename", "id", "legacyResourceId", "createdAt", "updatedAt", "processedAt", "name", "number"}


def counts(simulator: "Simulator") -> dict:
    """How many rows each stream has, and the orders too big for one page of line items."""
    s = simulator.shop
    return {"orders": len(s.orders), "customers": len(s.customers), "products": len(s.products) + 1,
            "product_variants": len(s.products) + 1, "inventory_items": len(s.products) + 1,
            "locations": len(LOCATIONS), "inventory_levels": (len(s.products) + 1) * len(LOCATIONS),
            "collections": len(s.collections()), "abandoned_checkouts": len(s.checkouts),
            "line_items": sum(len(r.lines) for r in s.orders),
            "big_orders": [gid("Order", r.num) for r in s.orders if len(r.lines) > MAX_PAGE]}


def truth(simulator: "Simulator") -> dict:
    """Expected money per order, to reconcile what the tap delivered."""
    out = {}
    for r in simulator.shop.orders:
        t = simulator.shop.order_totals(r)
        out[gid("Order", r.num)] = {"subtotal": money(t["sub"])["amount"], "discounts": money(t["disc"])["amount"],
                                    "shipping": money(r.shipping)["amount"], "tax": money(r.tax)["amount"],
                                    "total": money(t["total"])["amount"], "refunded": money(t["refunded"])["amount"],
                                    "line_items": len(r.lines)}
    return out


def truth_rows(simulator: "Simulator") -> dict:
    """Every top-level row's GID and updatedAt, per stream: what a complete, current copy holds."""
    out = {}
    for stream, (table, kind) in TRUTH_TABLES.items():
        rows, _ = simulator.shop.table(table)
        out[stream] = {gid(kind, num): updated for num, _, updated, _, _ in rows}
    return out


def mutate(simulator: "Simulator", orders_updated: int = 0, orders_created: int = 0, refunds: int = 0,
           customers_updated: int = 0, orders_deleted: int = 0, customers_deleted: int = 0,
           collections_deleted: int = 0) -> dict:
    """Changes between runs, stamped with the sandbox clock's now. A deletion takes the record
    out of every listing and records a "destroy" event, as Shopify does: an order (one of a
    customer with others, so no customer goes with it), a customer (Shopify's erasure: their
    orders stay, without a customer), a collection."""
    s, now = simulator.shop, simulator.clock.now()
    changed = {"orders_updated": [], "orders_created": [], "refunds": [], "customers_updated": [],
               "orders_deleted": [], "customers_deleted": [], "collections_deleted": []}
    deletable = [r for r in s.orders if not r.refunds and len(r.lines) <= MAX_PAGE]
    for r in deletable[-orders_deleted:] if orders_deleted else []:
        if len(s.customer_orders[r.person]) < 2:
            continue  # the customer's only order: Shopify would keep it, here it stays
        s.orders.remove(r)
        del s.order_by_num[r.num]
        s.customer_orders[r.person].remove(r)
        s.customer_updated[r.person] = now  # their order count and amount spent changed
        s.deleted_order_idx = max(s.deleted_order_idx, r.idx)
        s.delete("ORDER", gid("Order", r.num), now)
        changed["orders_deleted"].append(gid("Order", r.num))
    for pi in s.customers[:customers_deleted]:
        s.deleted_customers.add(pi)
        for r in s.customer_orders.get(pi, []):
            r.updated = now  # the orders stay, without a customer (a changed order)
        s.delete("CUSTOMER", gid("Customer", int(shopify_customer_id(pi))), now)
        changed["customers_deleted"].append(gid("Customer", int(shopify_customer_id(pi))))
    for c in s.collections()[:collections_deleted]:
        s.deleted_collections.add(c["_num"])
        s.delete("COLLECTION", c["id"], now)
        changed["collections_deleted"].append(c["id"])
    candidates = [r for r in s.orders if not r.refunds]
    for r in candidates[:orders_updated]:
        r.note, r.updated = f"Updated at {iso(now)}", now
        r.tags = ["edited"]
        changed["orders_updated"].append(gid("Order", r.num))
    for r in candidates[orders_updated:orders_updated + refunds]:
        r.refunds.append({"at": now, "note": "Partial refund", "lines": [(0, 1)]})
        s.refund_index[s.refund_num(r, len(r.refunds) - 1)] = (r, len(r.refunds) - 1)
        r.updated = now
        changed["refunds"].append(gid("Order", r.num))
    template = s.orders[-1] if s.orders else None
    for k in range(orders_created):
        idx = max(max(r.idx for r in s.orders), s.deleted_order_idx) + 1
        r = OrderRec()
        r.idx, r.num, r.number = idx, 5_500_000_000_000 + idx * 11, max(o.number for o in s.orders) + 1
        r.person = template.person if template else s.customers[0]
        r.at = r.updated = r.fulfilled_at = now
        prod = s.products[k % len(s.products)]
        r.lines = [(prod.idx, 2, prod.price)]
        r.shipping = 0 if 2 * prod.price >= 7500 else 599
        r.tax = (2 * prod.price * TAX_BP + 5000) // 10000
        r.line_tax = [r.tax]
        r.discount, r.refunds, r.note, r.tags, r.channel = None, [], None, [], "Direct"
        s.orders.append(r)
        s.order_by_num[r.num] = r
        changed["orders_created"].append(gid("Order", r.num))
    s.rebuild_customers()
    for pi in s.customers[:customers_updated]:
        s.customer_updated[pi] = now
        s.customer_marketing[pi] = "UNSUBSCRIBED"
        changed["customers_updated"].append(gid("Customer", int(shopify_customer_id(pi))))
    s.touch()
    return changed


def edit(simulator: "Simulator", orders: list | None = None, customers: list | None = None) -> dict:
    """A merchant's edits, stamped with the sandbox clock's now: the i-th entry of `orders`
    ({field: value}) goes to the shop's i-th order, of `customers` to its i-th customer.
    Fields are the node's own scalar or object fields (note, tags, email, firstName,
    defaultEmailAddress, shippingAddress, ...); null empties a nullable one. GraphQL answers
    only the fields a query asks for, so here drift means values changing shape within the
    schema: nulls where values were, unicode and very long texts, empty lists."""
    s, now = simulator.shop, simulator.clock.now()
    edited = {"orders": [], "customers": []}
    work = (("Order", orders or [], s.orders), ("Customer", customers or [], s.customers))
    for kind, changes, targets in work:       # all checked before any is applied
        if len(changes) > len(targets):
            raise ValueError(f"{len(changes)} {kind} edits for {len(targets)} {kind.lower()}s")
        for target, change in zip(targets, changes):
            if not isinstance(change, dict):
                raise ValueError(f"each {kind} edit must be an object of fields")
            node = s.order_node(target) if kind == "Order" else s.customer_node(target)
            bad = [f for f in change if f in FIXED_FIELDS or f not in node or callable(node[f])]
            if bad:
                raise ValueError(f"{kind} fields that cannot be edited here: {bad}")
    for kind, changes, targets in work:
        for target, change in zip(targets, changes):
            if kind == "Order":
                s.edits.setdefault(("Order", target.num), {}).update(change)
                target.updated = now
                edited["orders"].append(gid("Order", target.num))
            else:
                s.edits.setdefault(("Customer", target), {}).update(change)
                s.customer_updated[target] = now
                edited["customers"].append(gid("Customer", int(shopify_customer_id(target))))
    s.touch()
    return edited


def add_routes(app: web.Application, simulator: "Simulator") -> None:
    prefix = f"/_sandbox/{NAME}"

    async def body_of(request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"error": "body must be JSON"}', content_type="application/json")
        return data if isinstance(data, dict) else {}

    async def counts_(request):
        return web.json_response(counts(simulator))

    async def truth_(request):
        return web.json_response(truth(simulator))

    async def truth_rows_(request):
        return web.json_response(truth_rows(simulator))

    async def requests_(request):
        log = simulator.cost_log
        return web.json_response({**simulator.requests, "cost_requested": sum(c["requested"] for c in log),
                                  "cost_actual": sum(c["actual"] for c in log)})

    async def mutate_(request):
        body = await body_of(request)
        try:
            return web.json_response(mutate(simulator, **body))
        except TypeError as err:
            return web.json_response({"error": str(err)}, status=400)

    async def edit_(request):
        body = await body_of(request)
        try:
            return web.json_response(edit(simulator, body.get("orders"), body.get("customers")))
        except (TypeError, ValueError) as err:
            return web.json_response({"error": str(err)}, status=400)

    async def throttle(request):
        body = await body_of(request)
        return web.json_response(simulator.throttle.set(body.get("maximum"), body.get("restore_rate")))

    async def bulk(request):
        body = await body_of(request)
        if body.get("polls") is not None:
            simulator.bulk_polls = int(body["polls"])
        return web.json_response({"polls": simulator.bulk_polls})

    async def expire(request):
        return web.json_response({"expired": simulator.expire_tokens()})

    async def reset(request):
        simulator.load(simulator.world)
        return web.json_response({"ok": True})

    app.add_routes([
        web.get(prefix + "/counts", counts_), web.get(prefix + "/truth", truth_),
        web.get(prefix + "/truth/rows", truth_rows_),
        web.get(prefix + "/requests", requests_), web.post(prefix + "/mutate", mutate_),
        web.post(prefix + "/edit", edit_), web.post(prefix + "/throttle", throttle), web.post(prefix + "/bulk", bulk),
        web.post(prefix + "/tokens/expire", expire), web.post(prefix + "/reset", reset),
    ])
