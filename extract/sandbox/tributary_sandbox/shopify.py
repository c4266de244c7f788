"""Shopify Admin GraphQL API simulator: a real GraphQL endpoint (graphql-core executing
shopify_schema.graphql, a hand-written subset of Shopify's published schema) over the world's
shop orders, customers and catalogue.

Routes (prefix /shopify, so a tap's `api_url` is http://127.0.0.1:<port>/shopify):
  POST /shopify/admin/api/{version}/graphql.json    X-Shopify-Access-Token; query + variables
  POST /shopify/admin/oauth/access_token             client credentials grant (form or JSON)
  GET  /shopify/bulk/{key}.jsonl                     bulk operation results (no auth, like a signed URL)
Control (/_sandbox/shopify/...): GET counts, truth, truth/rows, requests; POST mutate, edit, faults, throttle,
reset, tokens/expire.

What it does like Shopify:
  * connections with `first`/`last` <= 250, opaque cursors, pageInfo; `query:` filters
    `updated_at` / `created_at` with >, >=, <, <=, : (and `id:>N`); sortKey + reverse;
  * nested connections (an order's lineItems, a refund's refundLineItems, ...) page on their own;
    a few orders carry 300+ line items so nothing fits in one page;
  * calculated query cost: scalars and enums 0, objects 1, connections 2 + first x node cost,
    object lists 1 x item cost (requested) - actual cost is counted on what came back;
    mutations 10; a single query above 1000 points fails MAX_COST_EXCEEDED;
  * leaky bucket per access token (default 2000 points, 100/s restore; `set_throttle`), THROTTLED
    (HTTP 200, errors[].extensions.code) with the cost in extensions, no points taken;
  * client credentials: CLIENT_ID / CLIENT_SECRET below -> an access token valid 24 h of sandbox
    clock (expires_in 86399); expired or unknown tokens answer 401 with Shopify's body;
  * bulk operations: bulkOperationRunQuery runs the query over every node (no page limits) in a
    thread, writes JSONL with `__parentId` for nested-connection rows, and reports
    CREATED -> RUNNING -> COMPLETED over a few polls; knobs for FAILED (with partialDataUrl) and for
    an operation already running (OPERATION_IN_PROGRESS).
Money: integer cents from the world, served as MoneyBag/MoneyV2 {amount: "12.34", currencyCode}.
Totals reconcile: order total = subtotal (original line totals - discounts) + shipping + tax;
refunds = refund line subtotals + their tax = the refund transactions.
Discounts are modelled so the world's prices are the discounted prices (the original unit price
is marked up and a discount code allocation brings it back), so order totals equal the world's.
"""
from __future__ import annotations

import asyncio
import base64
import bisect
import datetime as dt
import json
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

from aiohttp import web
from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
)
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode

from .clock import Clock
from .world import World, shopify_customer_id

SHOP = "tributary-sandbox"
ACCESS_TOKEN = "shpat_tributary_sandbox_token"          # a custom app's Admin API token (never expires)
CLIENT_ID = "tributary-sandbox-shopify-client-id"
CLIENT_SECRET = "tributary-sandbox-shopify-client-secret"
TOKEN_TTL = 86399                                       # Shopify: client-credentials tokens live 24 h
SCOPES = "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations"
API_VERSIONS = ("2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
MAX_PAGE = 250
MAX_QUERY_COST = 1000
MUTATION_COST = 10
BIG_ORDER_LINES = 300                                   # orders that need nested paging
SCHEMA = build_schema((Path(__file__).with_name("shopify_schema.graphql")).read_text())
INVALID_TOKEN_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
LOCATIONS = (("Main Warehouse", "1 Dock Rd", "Oakland", "CA", "94607"),
             ("Downtown Store", "200 Market St", "San Francisco", "CA", "94105"))
QUANTITY_NAMES = ("available", "committed", "incoming", "on_hand", "reserved")
TAX_BP = 725                                           # the world's sales tax, basis points
DISCOUNTS = (("WELCOME10", 10), ("SPRING15", 15))


# ---- small helpers -----------------------------------------------------------------------------
def money(cents: int) -> dict:
    v = {"amount": f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}", "currencyCode": "USD"}
    return v


def bag(cents: int) -> dict:
    v = money(cents)
    return {"shopMoney": v, "presentmentMoney": v}


def iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, num: int) -> str:
    return f"gid://shopify/{kind}/{num}"


def parse_gid(value: str) -> tuple[str, int] | None:
    m = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", value or "")
    return (m.group(1), int(m.group(2))) if m else None


def _cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _uncursor(cur: str):
    try:
        return json.loads(base64.urlsafe_b64decode(cur.encode()))
    except (ValueError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort.")


def _spread(total: int, weights: list[int]) -> list[int]:
    """Split `total` cents in proportion to `weights`, remainder on the last part (sums exactly)."""
    s = sum(weights)
    if not s:
        return [0] * len(weights)
    parts = [total * w // s for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def _norm_time(text: str) -> str | None:
    text = text.strip().strip("'\"")
    try:
        if len(text) == 10:
            t = dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
        else:
            t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if t.tzinfo is None:
                t = t.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    return iso(t)


_TERM = re.compile(r"(\w+):(>=|<=|>|<)?('[^']*'|\"[^\"]*\"|\S+)")


def parse_search(query: str | None) -> list[tuple[str, str, str]]:
    """Shopify search syntax, the part the simulator honours: `field:>=value` terms joined by
    spaces or AND. Returns (field, op, value) with times normalised to ISO-8601 Z."""
    out = []
    for m in _TERM.finditer(query or ""):
        field, op, value = m.group(1), m.group(2) or "=", m.group(3).strip("'\"")
        if field in ("updated_at", "created_at", "processed_at"):
            norm = _norm_time(value)
            if norm is None:
                continue            # Shopify ignores a term it cannot parse (and warns); so do we
            value = norm
        out.append((field, op, value))
    return out


# ---- data ---------------------------------------------------------------------------------------
class OrderRec:
    __slots__ = ("idx", "num", "number", "person", "at", "lines", "shipping", "tax", "line_tax", "discount",
                 "refunds", "updated", "note", "tags", "channel", "fulfilled_at")


class Shop:
    """The shop's records (built from the world, changed by `mutate`) and their GraphQL nodes."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world, self.clock = world, clock
        self.version = 0                      # bumps on every change (invalidates sorted indexes)
        self._indexes: dict = {}
        w = world
        end = dt.datetime.combine(w.today, dt.time(0), tzinfo=dt.timezone.utc) - dt.timedelta(seconds=1)
        self.history_end = end
        # catalogue: the world's shop goods, plus a free sample product for the big sampler orders
        self.products = [p for p in w.products if p.kind == "Inventory"]
        self.sample_idx = len(w.products)
        self.product_by_idx = {p.idx: p for p in self.products}
        self.product_created = {}
        for k, p in enumerate(self.products):
            self.product_created[p.idx] = dt.datetime.combine(w.start, dt.time(9), tzinfo=dt.timezone.utc) + dt.timedelta(hours=k)
        self.product_created[self.sample_idx] = self.product_created[self.products[0].idx]
        self.product_updated = dict(self.product_created)
        # orders
        self.orders: list[OrderRec] = []
        n = len(w.orders)
        big = {w.orders[int(n * f)].idx for f in (0.25, 0.5, 0.9)} if n >= 10 else set()
        for pos, o in enumerate(w.orders):
            self.orders.append(self._order_from_world(o, pos, o.idx in big))
        self.order_by_num = {r.num: r for r in self.orders}
        self.refund_index: dict[int, tuple[OrderRec, int]] = {}
        for r in self.orders:
            for k, _ in enumerate(r.refunds):
                self.refund_index[self._refund_num(r, k)] = (r, k)
        # deleted by `ShopifySandbox.mutate`: out of every listing (each has a "destroy" event)
        self.deleted_customers: set[int] = set()
        self.deleted_collections: set[int] = set()
        self.deleted_order_idx = 0  # the highest: a new order never gets a deleted one's id
        # customers: everyone who ordered (ids shared with QuickBooks/Attio through world.py)
        self.customer_updated: dict[int, dt.datetime] = {}
        self.customer_marketing: dict[int, str] = {}
        self._rebuild_customers()
        # abandoned checkouts
        self.checkouts = self._build_checkouts()
        # fields changed by a merchant's edit (`ShopifySandbox.edit`): ("Order", num) or
        # ("Customer", person idx) -> {field: value}, laid over the node built from the world
        self.edits: dict[tuple[str, int], dict] = {}
        # deletions (`ShopifySandbox.mutate`): gone from every listing, each one a "destroy" event
        self.events: list[dict] = []

    # -- building ----------------------------------------------------------------------------------
    def _order_from_world(self, o, pos: int, big: bool) -> OrderRec:
        r = OrderRec()
        r.idx, r.num, r.number = o.idx, 5_500_000_000_000 + o.idx * 11, 1001 + pos
        r.person, r.at, r.channel = o.person, o.at, o.channel
        r.lines = [(p, q, price) for p, q, price in o.lines]
        if big:
            r.lines += [(self.sample_idx, 1, 0)] * BIG_ORDER_LINES
        r.shipping, r.tax = o.shipping, o.tax
        subs = [q * p for _, q, p in r.lines]
        r.line_tax = _spread(r.tax, subs) if sum(subs) else [0] * len(subs)
        h = (o.idx * 2654435761) % 100
        r.discount = DISCOUNTS[h % 2] if h < 15 else None
        r.refunds = []
        if o.refunded:
            r.refunds.append({"at": o.refunded_at, "note": "Customer return",
                              "lines": [(k, q) for k, (_, q, _) in enumerate(r.lines) if q]})
        r.note, r.tags = None, []
        fulfilled = o.at + dt.timedelta(days=1)
        r.fulfilled_at = fulfilled if fulfilled <= self.history_end else o.at
        r.updated = max([r.at, r.fulfilled_at] + [f["at"] for f in r.refunds])
        return r

    def _rebuild_customers(self) -> None:
        by_person: dict[int, list[OrderRec]] = {}
        for r in self.orders:
            by_person.setdefault(r.person, []).append(r)
        self.customer_orders = by_person
        self.customers = sorted(p for p in by_person if p not in self.deleted_customers)
        self.customer_num = {int(shopify_customer_id(p)): p for p in self.customers}

    def _build_checkouts(self) -> list[dict]:
        w = self.world
        r = w.rng("shopify_checkouts")
        out = []
        people = self.customers or [0]
        for k in range(w.n(400)):
            person = people[r.randrange(len(people))]
            day = w._day(r)
            at = w._moment(r, day)
            prods = [self.products[r.randrange(len(self.products))] for _ in range(1 + int(r.random() ** 2 * 3))]
            lines = [(p.idx, 1 + r.randrange(3), p.price) for p in prods]
            out.append({"num": 30_000_000_000 + k, "person": person, "at": at,
                        "updated": min(at + dt.timedelta(hours=r.randint(1, 72)), self.history_end), "lines": lines})
        return out

    def _refund_num(self, r: OrderRec, k: int) -> int:
        return 900_000_000_000 + r.idx * 10 + k

    def touch(self) -> None:
        self.version += 1
        self._indexes.clear()

    # -- derived order figures --------------------------------------------------------------------
    def line_figures(self, r: OrderRec, k: int) -> dict:
        p_idx, q, price = r.lines[k]
        orig_unit = price
        if r.discount and price:
            pct = r.discount[1]
            orig_unit = price + (price * pct + (100 - pct) // 2) // (100 - pct)
        return {"unit": price, "orig_unit": orig_unit, "qty": q, "alloc": q * (orig_unit - price),
                "sub": q * price, "tax": r.line_tax[k], "product": p_idx}

    def order_totals(self, r: OrderRec) -> dict:
        sub = sum(q * p for _, q, p in r.lines)
        disc = sum(self.line_figures(r, k)["alloc"] for k in range(len(r.lines))) if r.discount else 0
        refunded = sum(self.refund_amounts(r, k)[2] for k in range(len(r.refunds)))
        total = sub + r.shipping + r.tax
        return {"sub": sub, "disc": disc, "total": total, "refunded": refunded}

    def refund_amounts(self, r: OrderRec, k: int) -> tuple[list, int, int]:
        """([(line k, qty, subtotal, tax)], subtotal, total) of refund k of order r."""
        rows = []
        for line_k, qty in r.refunds[k]["lines"]:
            f = self.line_figures(r, line_k)
            sub = f["unit"] * qty
            tax = f["tax"] * qty // f["qty"] if qty != f["qty"] else f["tax"]
            rows.append((line_k, qty, sub, tax))
        sub = sum(x[2] for x in rows)
        return rows, sub, sub + sum(x[3] for x in rows)

    # -- nodes ----------------------------------------------------------------------------------
    def product_node(self, p_idx: int) -> dict:
        if p_idx == self.sample_idx:
            title, sku, price, cost = "Free Sample Sachet", "SKU-SAMPLE", 0, 0
        else:
            p = self.product_by_idx[p_idx]
            title, sku, price, cost = p.name, p.sku, p.price, p.cost
        num = 8_100_000_000 + p_idx
        created, updated = self.product_created[p_idx], self.product_updated[p_idx]
        noun = title.split()[-2] if p_idx != self.sample_idx else "Sample"
        node = {"__typename": "Product", "id": gid("Product", num), "legacyResourceId": str(num), "title": title,
                "handle": re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"), "vendor": "Tributary Goods",
                "productType": noun, "status": "ACTIVE", "tags": [noun.lower()], "createdAt": iso(created),
                "updatedAt": iso(updated), "publishedAt": iso(created), "totalInventory": self.stock(p_idx, 0) + self.stock(p_idx, 1),
                "tracksInventory": True, "variantsCount": {"count": 1, "precision": "EXACT"}}
        node["variants"] = lambda info, **a: connection(info, [self.variant_node(p_idx)], a)
        node["_sku"], node["_price"], node["_cost"] = sku, price, cost
        return node

    def stock(self, p_idx: int, loc: int) -> int:
        return (p_idx * 37 + loc * 11) % 90 + 5

    def variant_node(self, p_idx: int) -> dict:
        prod = self.product_node_light(p_idx)
        num = 44_100_000_000 + p_idx
        created, updated = self.product_created[p_idx], self.product_updated[p_idx]
        return {"__typename": "ProductVariant", "id": gid("ProductVariant", num), "legacyResourceId": str(num),
                "title": "Default Title", "displayName": f"{prod['title']} - Default Title", "sku": prod["sku"],
                "barcode": None, "price": money(prod["price"])["amount"], "compareAtPrice": None, "position": 1,
                "taxable": True, "availableForSale": True, "inventoryPolicy": "DENY",
                "inventoryQuantity": self.stock(p_idx, 0) + self.stock(p_idx, 1), "createdAt": iso(created),
                "updatedAt": iso(updated), "selectedOptions": [{"name": "Title", "value": "Default Title"}],
                "product": lambda info, **a: self.product_node(p_idx),
                "inventoryItem": lambda info, **a: self.item_node(p_idx)}

    def product_node_light(self, p_idx: int) -> dict:
        if p_idx == self.sample_idx:
            return {"title": "Free Sample Sachet", "sku": "SKU-SAMPLE", "price": 0, "cost": 0}
        p = self.product_by_idx[p_idx]
        return {"title": p.name, "sku": p.sku, "price": p.price, "cost": p.cost}

    def item_node(self, p_idx: int) -> dict:
        light = self.product_node_light(p_idx)
        num = 46_100_000_000 + p_idx
        created, updated = self.product_created[p_idx], self.product_updated[p_idx]
        node = {"__typename": "InventoryItem", "id": gid("InventoryItem", num), "legacyResourceId": str(num),
                "sku": light["sku"], "tracked": True, "requiresShipping": True, "countryCodeOfOrigin": "US",
                "harmonizedSystemCode": None, "unitCost": money(light["cost"]), "createdAt": iso(created),
                "updatedAt": iso(updated)}
        node["inventoryLevels"] = lambda info, **a: connection(info, [self.level_node(p_idx, k) for k in range(len(LOCATIONS))], a)
        return node

    def level_node(self, p_idx: int, loc: int) -> dict:
        item_num = 46_100_000_000 + p_idx
        created, updated = self.product_created[p_idx], self.product_updated[p_idx]
        on_hand = self.stock(p_idx, loc)
        committed = (p_idx + loc) % 3
        values = {"available": on_hand - committed, "committed": committed, "incoming": (p_idx % 4) * 5,
                  "on_hand": on_hand, "reserved": 0}
        lid = f"gid://shopify/InventoryLevel/{120_000_000 + p_idx * 10 + loc}?inventory_item_id={item_num}"

        def quantities(info, names):
            return [{"id": f"gid://shopify/InventoryQuantity/{120_000_000 + p_idx * 10 + loc}?name={n}", "name": n,
                     "quantity": values.get(n, 0), "updatedAt": iso(updated)} for n in names]
        return {"__typename": "InventoryLevel", "id": lid, "isActive": True, "createdAt": iso(created), "updatedAt": iso(updated),
                "item": lambda info, **a: self.item_node(p_idx), "location": lambda info, **a: self.location_node(loc),
                "quantities": quantities}

    def location_node(self, k: int) -> dict:
        name, street, city, prov, zip_ = LOCATIONS[k]
        num = 71_000_000 + k
        at = iso(dt.datetime.combine(self.world.start, dt.time(8), tzinfo=dt.timezone.utc))
        node = {"__typename": "Location", "id": gid("Location", num), "legacyResourceId": str(num), "name": name,
                "isActive": True, "fulfillsOnlineOrders": k == 0, "shipsInventory": k == 0, "hasActiveInventory": True,
                "createdAt": at, "updatedAt": at,
                "address": {"address1": street, "address2": None, "city": city, "province": "California",
                            "provinceCode": prov, "country": "United States", "countryCode": "US", "zip": zip_,
                            "phone": None}}
        node["inventoryLevels"] = lambda info, **a: connection(
            info, [self.level_node(p.idx, k) for p in self.products] + [self.level_node(self.sample_idx, k)], a)
        return node

    def collections(self) -> list[dict]:
        nouns = sorted({p.name.split()[-2] for p in self.products})
        out = []
        for k, noun in enumerate(nouns):
            num = 310_000_000 + k
            members = [p for p in self.products if p.name.split()[-2] == noun]
            updated = max(self.product_updated[p.idx] for p in members)
            if num in self.deleted_collections:
                continue
            out.append({"__typename": "Collection", "id": gid("Collection", num), "legacyResourceId": str(num),
                        "title": f"{noun}s", "handle": f"{noun.lower()}s", "description": f"All our {noun.lower()}s.",
                        "sortOrder": "BEST_SELLING", "templateSuffix": None, "updatedAt": iso(updated),
                        "productsCount": {"count": len(members), "precision": "EXACT"}, "_num": num})
        return out

    def address_nodes(self, person_idx: int) -> list[dict]:
        p = self.world.people[person_idx]
        n_addr = 2 if person_idx % 5 == 0 else 1
        streets = ("Main St", "Oak Ave", "Pine Rd", "Elm St", "Lake Dr")
        out = []
        for k in range(n_addr):
            out.append({"__typename": "MailingAddress", "id": gid("MailingAddress", 9_100_000_000 + person_idx * 4 + k),
                        "firstName": p.first, "lastName": p.last, "name": f"{p.first} {p.last}", "company": None,
                        "address1": f"{100 + (person_idx * 7 + k * 13) % 900} {streets[(person_idx + k) % 5]}",
                        "address2": None, "city": ("Portland", "Austin", "Denver", "Boston")[(person_idx + k) % 4],
                        "province": None, "provinceCode": ("OR", "TX", "CO", "MA")[(person_idx + k) % 4],
                        "country": "United States", "countryCodeV2": "US", "zip": f"{10000 + person_idx % 89999:05d}",
                        "phone": None})
        return out

    def customer_node(self, person_idx: int) -> dict:
        p = self.world.people[person_idx]
        orders = self.customer_orders.get(person_idx, [])
        num = int(shopify_customer_id(person_idx))
        created = min([p.created] + [o.at for o in orders])
        updated = max([created] + [o.updated for o in orders] + [self.customer_updated.get(person_idx, created)])
        marketing = self.customer_marketing.get(person_idx) or ("SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED")[person_idx % 3]
        addresses = self.address_nodes(person_idx)
        has_phone = person_idx % 4 == 0
        spent = sum(self.order_totals(o)["total"] - self.order_totals(o)["refunded"] for o in orders)
        node = {"__typename": "Customer", "id": gid("Customer", num), "legacyResourceId": str(num),
                "firstName": p.first, "lastName": p.last, "displayName": f"{p.first} {p.last}", "note": None,
                "state": "ENABLED" if person_idx % 7 else "DISABLED", "tags": [], "taxExempt": False,
                "verifiedEmail": True, "locale": "en", "createdAt": iso(created), "updatedAt": iso(updated),
                "numberOfOrders": str(len(orders)), "amountSpent": money(spent),
                "defaultEmailAddress": {"emailAddress": p.emails["shopify"], "marketingState": marketing,
                                        "marketingOptInLevel": "SINGLE_OPT_IN" if marketing == "SUBSCRIBED" else None,
                                        "marketingUpdatedAt": iso(created) if marketing != "NOT_SUBSCRIBED" else None,
                                        "validFormat": True},
                "defaultPhoneNumber": None if not has_phone else {
                    "phoneNumber": f"+1555{person_idx % 10_000_000:07d}",
                    "smsMarketingConsent": {"state": "SUBSCRIBED" if person_idx % 8 == 0 else "NEVER_SUBSCRIBED",
                                            "optInLevel": "SINGLE_OPT_IN", "updatedAt": iso(created),
                                            "collectedFrom": "SHOPIFY"}},
                "defaultAddress": addresses[0]}
        node["addressesV2"] = lambda info, **a: connection(info, addresses, a)
        node.update(self.edits.get(("Customer", person_idx), {}))
        return node

    def order_node(self, r: OrderRec) -> dict:
        tot = self.order_totals(r)
        p = self.world.people[r.person]
        lines = []
        for k in range(len(r.lines)):
            lines.append(self.line_node(r, k))
        disc_apps = []
        if r.discount:
            disc_apps.append({"__typename": "DiscountCodeApplication", "allocationMethod": "ACROSS", "code": r.discount[0],
                              "index": 0, "targetSelection": "ALL", "targetType": "LINE_ITEM",
                              "value": {"__typename": "PricingPercentageValue", "percentage": float(r.discount[1])}})
        ship = {"__typename": "ShippingLine", "id": gid("ShippingLine", 4_100_000_000 + r.idx),
                "title": "Standard Shipping" if r.shipping else "Free Shipping", "code": "STANDARD",
                "source": "shopify", "carrierIdentifier": None, "custom": False, "isRemoved": False,
                "originalPriceSet": bag(r.shipping), "discountedPriceSet": bag(r.shipping), "taxLines": []}
        refunds = [self.refund_node(r, k) for k in range(len(r.refunds))]
        sale = {"__typename": "OrderTransaction", "id": gid("OrderTransaction", 7_100_000_000_000 + r.idx * 10),
                "kind": "SALE", "status": "SUCCESS", "gateway": "shopify_payments", "formattedGateway": "Shopify Payments",
                "test": False, "createdAt": iso(r.at), "processedAt": iso(r.at), "amountSet": bag(tot["total"]),
                "parentTransaction": None, "errorCode": None}
        txs = [sale] + [t for rf in refunds for t in rf["_transactions"]]
        if tot["refunded"] >= tot["total"]:
            fin = "REFUNDED"
        elif tot["refunded"]:
            fin = "PARTIALLY_REFUNDED"
        else:
            fin = "PAID"
        addr = self.address_nodes(r.person)[0]
        qty = sum(q for _, q, _ in r.lines)
        fulfillment = {"__typename": "Fulfillment", "id": gid("Fulfillment", 5_100_000_000 + r.idx),
                       "legacyResourceId": str(5_100_000_000 + r.idx), "name": f"#{r.number}-F1", "status": "SUCCESS",
                       "displayStatus": "DELIVERED", "createdAt": iso(r.fulfilled_at), "updatedAt": iso(r.fulfilled_at),
                       "deliveredAt": iso(r.fulfilled_at), "totalQuantity": qty, "requiresShipping": True,
                       "location": lambda info, **a: self.location_node(0),
                       "trackingInfo": lambda info, **a: [{"company": "UPS", "number": f"1Z{r.idx:012d}",
                                                           "url": f"https://www.ups.com/track?tracknum=1Z{r.idx:012d}"}]}
        node = {"__typename": "Order", "id": gid("Order", r.num), "legacyResourceId": str(r.num),
                "name": f"#{r.number}", "number": r.number, "email": p.emails["shopify"], "phone": None,
                "createdAt": iso(r.at), "updatedAt": iso(r.updated), "processedAt": iso(r.at), "cancelledAt": None,
                "cancelReason": None, "closed": False, "closedAt": None, "confirmed": True, "test": False,
                "currencyCode": "USD", "presentmentCurrencyCode": "USD", "displayFinancialStatus": fin,
                "displayFulfillmentStatus": "FULFILLED", "sourceName": "web", "tags": list(r.tags) + [r.channel],
                "note": r.note, "discountCodes": [r.discount[0]] if r.discount else [], "taxesIncluded": False,
                "subtotalLineItemsQuantity": qty,
                "customer": lambda info, **a: None if r.person in self.deleted_customers else self.customer_node(r.person),
                "shippingAddress": addr, "billingAddress": addr,
                "subtotalPriceSet": bag(tot["sub"]), "totalDiscountsSet": bag(tot["disc"]),
                "totalShippingPriceSet": bag(r.shipping), "totalTaxSet": bag(r.tax), "totalPriceSet": bag(tot["total"]),
                "totalRefundedSet": bag(tot["refunded"]), "currentTotalPriceSet": bag(tot["total"] - tot["refunded"]),
                "totalOutstandingSet": bag(0),
                "taxLines": [{"title": "State Tax", "rate": TAX_BP / 10000, "ratePercentage": TAX_BP / 100,
                              "priceSet": bag(r.tax), "channelLiable": False, "source": "Shopify"}],
                "lineItems": lambda info, **a: connection(info, lines, a),
                "discountApplications": lambda info, **a: connection(info, disc_apps, a),
                "shippingLines": lambda info, **a: connection(info, [ship], a),
                "fulfillments": lambda info, **a: [fulfillment][: a.get("first") or None],
                "refunds": lambda info, **a: refunds[: a.get("first") or None],
                "transactions": lambda info, **a: txs[: a.get("first") or None]}
        node.update(self.edits.get(("Order", r.num), {}))
        return node

    def line_node(self, r: OrderRec, k: int) -> dict:
        f = self.line_figures(r, k)
        light = self.product_node_light(f["product"])
        allocs = []
        if r.discount and f["alloc"]:
            allocs.append({"allocatedAmountSet": bag(f["alloc"]),
                           "discountApplication": {"__typename": "DiscountCodeApplication", "allocationMethod": "ACROSS",
                                                   "code": r.discount[0], "index": 0, "targetSelection": "ALL",
                                                   "targetType": "LINE_ITEM",
                                                   "value": {"__typename": "PricingPercentageValue",
                                                             "percentage": float(r.discount[1])}}})
        p_idx = f["product"]
        return {"__typename": "LineItem", "id": gid("LineItem", 14_100_000_000_000 + r.idx * 1000 + k),
                "name": light["title"], "title": light["title"], "variantTitle": None, "sku": light["sku"],
                "vendor": "Tributary Goods", "quantity": f["qty"], "currentQuantity": f["qty"],
                "requiresShipping": True, "taxable": True, "isGiftCard": False,
                "variant": lambda info, **a: self.variant_node(p_idx),
                "product": lambda info, **a: self.product_node(p_idx),
                "originalUnitPriceSet": bag(f["orig_unit"]), "originalTotalSet": bag(f["orig_unit"] * f["qty"]),
                "discountedUnitPriceAfterAllDiscountsSet": bag(f["unit"]), "totalDiscountSet": bag(f["alloc"]),
                "taxLines": lambda info, **a: [{"title": "State Tax", "rate": TAX_BP / 10000, "ratePercentage": TAX_BP / 100,
                                                "priceSet": bag(f["tax"]), "channelLiable": False, "source": "Shopify"}],
                "discountAllocations": allocs}

    def refund_node(self, r: OrderRec, k: int) -> dict:
        rf = r.refunds[k]
        rows, sub, total = self.refund_amounts(r, k)
        num = self._refund_num(r, k)
        rlis = []
        for line_k, qty, lsub, ltax in rows:
            f = self.line_figures(r, line_k)
            rlis.append({"__typename": "RefundLineItem", "id": gid("RefundLineItem", 9_500_000_000_000 + r.idx * 1000 + line_k * 10 + k),
                         "lineItem": self.line_node(r, line_k), "quantity": qty, "restockType": "RETURN",
                         "restocked": True, "priceSet": bag(f["unit"]), "subtotalSet": bag(lsub), "totalTaxSet": bag(ltax)})
        tx = {"__typename": "OrderTransaction", "id": gid("OrderTransaction", 7_100_000_000_000 + r.idx * 10 + 1 + k),
              "kind": "REFUND", "status": "SUCCESS", "gateway": "shopify_payments", "formattedGateway": "Shopify Payments",
              "test": False, "createdAt": iso(rf["at"]), "processedAt": iso(rf["at"]), "amountSet": bag(total),
              "parentTransaction": {"__typename": "OrderTransaction", "id": gid("OrderTransaction", 7_100_000_000_000 + r.idx * 10)},
              "errorCode": None}
        return {"__typename": "Refund", "id": gid("Refund", num), "legacyResourceId": str(num), "note": rf["note"],
                "createdAt": iso(rf["at"]), "updatedAt": iso(rf["at"]), "processedAt": iso(rf["at"]),
                "totalRefundedSet": bag(total),
                "refundLineItems": lambda info, **a: connection(info, rlis, a),
                "transactions": lambda info, **a: connection(info, [tx], a),
                "_transactions": [tx]}

    def checkout_node(self, c: dict) -> dict:
        lines = []
        for k, (p_idx, q, price) in enumerate(c["lines"]):
            light = self.product_node_light(p_idx)
            lines.append({"__typename": "AbandonedCheckoutLineItem", "id": gid("AbandonedCheckoutLineItem", c["num"] * 10 + k),
                          "title": light["title"], "variantTitle": None, "sku": light["sku"], "quantity": q,
                          "variant": lambda info, _p=p_idx, **a: self.variant_node(_p),
                          "product": lambda info, _p=p_idx, **a: self.product_node(_p),
                          "originalUnitPriceSet": bag(price), "originalTotalPriceSet": bag(q * price),
                          "discountedTotalPriceSet": bag(q * price)})
        sub = sum(q * p for _, q, p in c["lines"])
        tax = (sub * TAX_BP + 5000) // 10000
        return {"__typename": "AbandonedCheckout", "id": gid("AbandonedCheckout", c["num"]), "name": f"#{c['num']}",
                "abandonedCheckoutUrl": f"https://{SHOP}.myshopify.com/checkouts/{c['num']}/recover",
                "createdAt": iso(c["at"]), "updatedAt": iso(c["updated"]), "completedAt": None, "note": "",
                "taxesIncluded": False, "discountCodes": [],
                "customer": lambda info, **a: self.customer_node(c["person"]),
                "subtotalPriceSet": bag(sub), "totalDiscountSet": bag(0), "totalTaxSet": bag(tax),
                "totalPriceSet": bag(sub + tax),
                "taxLines": [{"title": "State Tax", "rate": TAX_BP / 10000, "ratePercentage": TAX_BP / 100,
                              "priceSet": bag(tax), "channelLiable": False, "source": "Shopify"}],
                "lineItems": lambda info, **a: connection(info, lines, a)}

    # -- tables (top-level connections) --------------------------------------------------------
    def table(self, name: str):
        """(rows, node builder); a row is (num, created_iso, updated_iso, title, payload)."""
        if name == "orders":
            return [(r.num, iso(r.at), iso(r.updated), str(r.number), r)
                    for r in self.orders], self.order_node
        if name == "customers":
            rows = []
            for pi in self.customers:
                n = self.customer_node_keys(pi)
                rows.append((n[0], n[1], n[2], str(pi), pi))
            return rows, self.customer_node
        if name == "products":
            idxs = [p.idx for p in self.products] + [self.sample_idx]
            return [(8_100_000_000 + i, iso(self.product_created[i]), iso(self.product_updated[i]), str(i), i) for i in idxs], self.product_node
        if name == "productVariants":
            idxs = [p.idx for p in self.products] + [self.sample_idx]
            return [(44_100_000_000 + i, iso(self.product_created[i]), iso(self.product_updated[i]), str(i), i) for i in idxs], self.variant_node
        if name == "inventoryItems":
            idxs = [p.idx for p in self.products] + [self.sample_idx]
            return [(46_100_000_000 + i, iso(self.product_created[i]), iso(self.product_updated[i]), str(i), i) for i in idxs], self.item_node
        if name == "locations":
            return [(71_000_000 + k, None, None, LOCATIONS[k][0], k) for k in range(len(LOCATIONS))], self.location_node
        if name == "collections":
            return [(c["_num"], c["updatedAt"], c["updatedAt"], c["title"], c) for c in self.collections()], lambda c: c
        if name == "events":
            return [(e["num"], iso(e["at"]), iso(e["at"]), e["subjectType"], e) for e in self.events], self.event_node
        if name == "abandonedCheckouts":
            return [(c["num"], iso(c["at"]), iso(c["updated"]), str(c["num"]), c) for c in self.checkouts], self.checkout_node
        raise KeyError(name)

    def event_node(self, e: dict) -> dict:
        return {"__typename": "BasicEvent", "id": gid("BasicEvent", e["num"]), "createdAt": iso(e["at"]),
                "action": "destroy", "message": f"{e['subjectType'].title()} was deleted.",
                "subjectId": e["subjectId"], "subjectType": e["subjectType"]}

    def delete(self, subject_type: str, subject_id: str, now: dt.datetime) -> None:
        self.events.append({"num": 98_000_000_000 + len(self.events), "at": now, "subjectType": subject_type,
                            "subjectId": subject_id})

    def customer_node_keys(self, pi: int) -> tuple:
        p = self.world.people[pi]
        orders = self.customer_orders.get(pi, [])
        created = min([p.created] + [o.at for o in orders])
        updated = max([created] + [o.updated for o in orders] + [self.customer_updated.get(pi, created)])
        return int(shopify_customer_id(pi)), iso(created), iso(updated)

    def sorted_rows(self, name: str, sort_key: str | None, query: str | None):
        cache_key = (name, sort_key, query)
        hit = self._indexes.get(cache_key)
        if hit is not None:
            return hit
        rows, builder = self.table(name)
        for field, op, value in parse_search(query):
            if name == "events" and field in ("action", "subject_type"):  # every event here is a destroy
                rows = [r for r in rows if value.lower() == ("destroy" if field == "action" else r[3].lower())]
                continue
            col = {"created_at": 1, "processed_at": 1, "updated_at": 2, "id": 0}.get(field)
            if col is None:
                continue
            if col == 0:
                value = int(value)
            rows = [r for r in rows if r[col] is not None and _compare(r[col], op, value)]
        col = {"UPDATED_AT": 2, "CREATED_AT": 1, "PROCESSED_AT": 1, "TITLE": 3, "NAME": 3}.get(sort_key or "ID")
        if col is None:
            keyed = [((r[0],), r) for r in rows]
        else:
            keyed = [((r[col] or "", r[0]), r) for r in rows]
        keyed.sort(key=lambda kr: kr[0])
        result = ([k for k, _ in keyed], [r[4] for _, r in keyed], builder)
        self._indexes[cache_key] = result
        return result


def _compare(a, op: str, b) -> bool:
    if op == ">=":
        return a >= b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == "<":
        return a < b
    return a == b if not isinstance(a, str) or len(str(b)) != 10 else a[:10] == b[:10]


# ---- connections ------------------------------------------------------------------------------
def _page_args(info, args: dict) -> tuple[int | None, bool]:
    first, last = args.get("first"), args.get("last")
    if info.context.get("bulk"):
        return None, bool(args.get("reverse"))
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    size = first if first is not None else last
    if size > MAX_PAGE or size < 0:
        raise GraphQLError(f"The value of `{'first' if first is not None else 'last'}` must be between 0 and {MAX_PAGE}.")
    return size, bool(args.get("reverse")) ^ (first is None)


def connection(info, items: list, args: dict) -> dict:
    """A nested connection over an in-memory list; cursors are positions."""
    size, rev = _page_args(info, args)
    seq = list(reversed(items)) if rev else items
    start = 0
    if args.get("after"):
        start = int(_uncursor(args["after"])[0]) + 1
    chunk = seq[start:] if size is None else seq[start:start + size]
    cursors = [_cursor([start + i]) for i in range(len(chunk))]
    return {"edges": [{"cursor": c, "node": n} for c, n in zip(cursors, chunk)], "nodes": chunk,
            "pageInfo": {"hasNextPage": size is not None and start + size < len(seq), "hasPreviousPage": start > 0,
                         "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None}}


def root_connection(shop: Shop, name: str, info, args: dict) -> dict:
    size, rev = _page_args(info, args)
    keys, payloads, builder = shop.sorted_rows(name, args.get("sortKey"), args.get("query"))
    order = range(len(keys) - 1, -1, -1) if rev else range(len(keys))
    if args.get("after"):
        after = tuple(_uncursor(args["after"]))
        if rev:
            pos = bisect.bisect_left(keys, after) - 1
            order = range(pos, -1, -1)
        else:
            order = range(bisect.bisect_right(keys, after), len(keys))
    window = info.context.get("bulk_window")
    if window is not None:
        order = order[window[0]:window[0] + window[1]]
    picked = list(order if size is None else order[:size])
    nodes = [builder(payloads[i]) for i in picked]
    cursors = [_cursor(list(keys[i])) for i in picked]
    return {"edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes)], "nodes": nodes,
            "pageInfo": {"hasNextPage": size is not None and len(order) > size, "hasPreviousPage": bool(args.get("after")),
                         "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None}}


# ---- query cost -------------------------------------------------------------------------------
def _arg(node: FieldNode, name: str, variables: dict):
    for a in node.arguments or ():
        if a.name.value == name:
            v = a.value
            if v.kind == "variable":
                return variables.get(v.name.value)
            if v.kind == "int_value":
                return int(v.value)
            return getattr(v, "value", None)
    return None


def _fields(selection_set, fragments) -> list[tuple[FieldNode, str | None]]:
    """Fields of a selection set, flattening fragments (with their type condition)."""
    out = []
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            out.append((sel, None))
        elif isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else None
            out += [(f, cond or c) for f, c in _fields(sel.selection_set, fragments)]
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments[sel.name.value]
            out += [(f, frag.type_condition.name.value) for f, c in _fields(frag.selection_set, fragments)]
    return out


def _field_def(parent, name: str, cond: str | None):
    target = SCHEMA.get_type(cond) if cond else parent
    if isinstance(target, (GraphQLObjectType, GraphQLInterfaceType)):
        return target.fields.get(name)
    return None


def requested_cost(selection_set, parent, variables, fragments) -> int:
    total = 0
    for node, cond in _fields(selection_set, fragments):
        if node.name.value.startswith("__"):
            continue
        fdef = _field_def(parent, node.name.value, cond)
        if fdef is None:
            continue
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            continue
        if named.name.endswith("Connection"):
            size = _arg(node, "first", variables) or _arg(node, "last", variables) or 0
            per = 0
            for sub, _ in _fields(node.selection_set, fragments):
                if sub.name.value == "nodes":
                    per = max(per, 1 + requested_cost(sub.selection_set, get_named_type(named.fields["nodes"].type), variables, fragments))
                elif sub.name.value == "edges":
                    edge = get_named_type(named.fields["edges"].type)
                    for e, _ in _fields(sub.selection_set, fragments):
                        if e.name.value == "node":
                            per = max(per, 1 + requested_cost(e.selection_set, get_named_type(edge.fields["node"].type), variables, fragments))
            total += 2 + size * per
        else:
            inner = 1 + requested_cost(node.selection_set, named, variables, fragments)
            if _is_list(fdef.type):
                inner *= _arg(node, "first", variables) or 1
            total += inner
    return total


def _is_list(t) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def actual_cost(data, selection_set, parent, fragments) -> int:
    if data is None:
        return 0
    total = 0
    for node, cond in _fields(selection_set, fragments):
        key = node.alias.value if node.alias else node.name.value
        if key.startswith("__") or key not in data:
            continue
        fdef = _field_def(parent, node.name.value, cond)
        if fdef is None:
            continue
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            continue
        value = data[key]
        if value is None:
            continue
        if named.name.endswith("Connection"):
            total += 2
            for sub, _ in _fields(node.selection_set, fragments):
                sk = sub.alias.value if sub.alias else sub.name.value
                if sub.name.value == "nodes":
                    nt = get_named_type(named.fields["nodes"].type)
                    total += sum(1 + actual_cost(n, sub.selection_set, nt, fragments) for n in value.get(sk) or [])
                elif sub.name.value == "edges":
                    edge = get_named_type(named.fields["edges"].type)
                    nt = get_named_type(edge.fields["node"].type)
                    for e, _ in _fields(sub.selection_set, fragments):
                        if e.name.value == "node":
                            total += sum(1 + actual_cost(ed.get("node"), e.selection_set, nt, fragments) for ed in value.get(sk) or [])
        elif isinstance(value, list):
            total += sum(1 + actual_cost(v, node.selection_set, named, fragments) for v in value)
        else:
            total += 1 + actual_cost(value, node.selection_set, named, fragments)
    return total


# ---- bulk operations ---------------------------------------------------------------------------
def _flatten_bulk(node: dict, parent_id: str | None, out: list) -> None:
    """One JSONL row per node; nested connections become rows of their own with __parentId."""
    row, children = {}, []
    for k, v in node.items():
        if isinstance(v, dict) and ("edges" in v or "nodes" in v) and set(v) <= {"edges", "nodes", "pageInfo"}:
            items = v.get("nodes") if "nodes" in v else [e["node"] for e in v.get("edges") or []]
            children.append((node.get("id"), items))
        elif isinstance(v, list) and v and isinstance(v[0], dict) and any(
                isinstance(x, dict) and ("edges" in x or "nodes" in x) for item in v for x in item.values()):
            kept = []
            for item in v:
                sub_row, sub_children = {}, []
                for sk, sv in item.items():
                    if isinstance(sv, dict) and ("edges" in sv or "nodes" in sv):
                        items = sv.get("nodes") if "nodes" in sv else [e["node"] for e in sv.get("edges") or []]
                        sub_children.append((item.get("id"), items))
                    else:
                        sub_row[sk] = sv
                kept.append(sub_row)
                children += sub_children
            row[k] = kept
        else:
            row[k] = v
    if parent_id is not None:
        row["__parentId"] = parent_id
    out.append(row)
    for pid, items in children:
        for child in items:
            _flatten_bulk(child, pid, out)


class BulkOp:
    def __init__(self, num: int, query: str, created: dt.datetime) -> None:
        self.num, self.query, self.created = num, query, created
        self.status, self.error, self.url, self.partial_url = "CREATED", None, None, None
        self.objects = self.roots = self.size = 0
        self.completed = None
        self.polls = 0
        self.done = threading.Event()
        self.min_polls = 2

    def node(self) -> dict:
        return {"__typename": "BulkOperation", "id": gid("BulkOperation", self.num), "status": self.status,
                "type": "QUERY", "query": self.query, "errorCode": self.error, "createdAt": iso(self.created),
                "completedAt": iso(self.completed), "objectCount": str(self.objects), "rootObjectCount": str(self.roots),
                "fileSize": str(self.size) if self.url else None, "url": self.url, "partialDataUrl": self.partial_url}


# ---- the simulator state ------------------------------------------------------------------------
class ShopifySandbox:
    def __init__(self, world: World, clock: Clock | None = None, *, maximum: float = 2000, restore_rate: float = 100) -> None:
        self.clock = clock or Clock()
        self.maximum, self.restore_rate = maximum, restore_rate
        self.bulk_dir = Path(tempfile.mkdtemp(prefix="shopify-bulk-"))
        self.load(world)

    def load(self, world: World) -> None:
        self.world = world
        self.shop = Shop(world, self.clock)
        self.tokens: dict[str, dt.datetime] = {}
        self.buckets: dict[str, list] = {}
        self.faults = {"throttled": 0, "http_429": 0, "server_error": 0, "drop": 0, "bulk_fail": 0,
                       "bulk_busy_polls": 0, "bulk_polls": 2, "retry_after": 2}
        self.requests = {"graphql": 0, "token": 0, "bulk_download": 0, "throttled": 0, "bulk_runs": 0}
        self.cost_log: list[dict] = []
        self.bulk_ops: dict[int, BulkOp] = {}
        self.bulk_seq = 4_200_000_000
        self.files: dict[str, Path] = {}
        self.base_url = ""

    # -- knobs -------------------------------------------------------------------------------------
    def set_faults(self, **knobs) -> dict:
        for k, v in knobs.items():
            if k not in self.faults:
                raise ValueError(f"unknown Shopify fault knob {k!r} (known: {sorted(self.faults)})")
            self.faults[k] = v
        if knobs.get("bulk_busy_polls"):
            op = self._new_op("{ products { edges { node { id } } } }")
            op.status = "RUNNING"
            op.min_polls = 10 ** 9          # finishes when its polls run out (see _advance)
            op.busy_polls = int(knobs["bulk_busy_polls"])
        return dict(self.faults)

    def set_throttle(self, maximum: float | None = None, restore_rate: float | None = None) -> dict:
        if maximum is not None:
            self.maximum = float(maximum)
        if restore_rate is not None:
            self.restore_rate = float(restore_rate)
        self.buckets.clear()
        return {"maximumAvailable": self.maximum, "restoreRate": self.restore_rate}

    def counts(self) -> dict:
        s = self.shop
        return {"orders": len(s.orders), "customers": len(s.customers), "products": len(s.products) + 1,
                "product_variants": len(s.products) + 1, "inventory_items": len(s.products) + 1,
                "locations": len(LOCATIONS), "inventory_levels": (len(s.products) + 1) * len(LOCATIONS),
                "collections": len(s.collections()), "abandoned_checkouts": len(s.checkouts),
                "line_items": sum(len(r.lines) for r in s.orders),
                "big_orders": [gid("Order", r.num) for r in s.orders if len(r.lines) > MAX_PAGE]}

    def truth(self) -> dict:
        """Expected money per order, to reconcile what the tap delivered."""
        out = {}
        for r in self.shop.orders:
            t = self.shop.order_totals(r)
            out[gid("Order", r.num)] = {"subtotal": money(t["sub"])["amount"], "discounts": money(t["disc"])["amount"],
                                        "shipping": money(r.shipping)["amount"], "tax": money(r.tax)["amount"],
                                        "total": money(t["total"])["amount"], "refunded": money(t["refunded"])["amount"],
                                        "line_items": len(r.lines)}
        return out

    # stream (the tap's, = the raw table) -> (the shop's table, the GID kind of its rows)
    TRUTH_TABLES = {"orders": ("orders", "Order"), "customers": ("customers", "Customer"),
                    "products": ("products", "Product"), "product_variants": ("productVariants", "ProductVariant"),
                    "inventory_items": ("inventoryItems", "InventoryItem"), "locations": ("locations", "Location"),
                    "collections": ("collections", "Collection"),
                    "abandoned_checkouts": ("abandonedCheckouts", "AbandonedCheckout")}

    def truth_rows(self) -> dict:
        """Every top-level row's GID and updatedAt, per stream: what a complete, current copy holds."""
        out = {}
        for stream, (table, kind) in self.TRUTH_TABLES.items():
            rows, _ = self.shop.table(table)
            out[stream] = {gid(kind, num): updated for num, _, updated, _, _ in rows}
        return out

    def mutate(self, orders_updated: int = 0, orders_created: int = 0, refunds: int = 0, customers_updated: int = 0,
               orders_deleted: int = 0, customers_deleted: int = 0, collections_deleted: int = 0) -> dict:
        """Changes between runs, stamped with the sandbox clock's now. A deletion takes the record
        out of every listing and records a "destroy" event, as Shopify does: an order (one of a
        customer with others, so no customer goes with it), a customer (Shopify's erasure: their
        orders stay, without a customer), a collection."""
        s, now = self.shop, self.clock.now()
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
            s.refund_index[s._refund_num(r, len(r.refunds) - 1)] = (r, len(r.refunds) - 1)
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
        s._rebuild_customers()
        for pi in s.customers[:customers_updated]:
            s.customer_updated[pi] = now
            s.customer_marketing[pi] = "UNSUBSCRIBED"
            changed["customers_updated"].append(gid("Customer", int(shopify_customer_id(pi))))
        s.touch()
        return changed

    # fields an edit may not touch: identities and timestamps (the shop keeps those itself)
    FIXED_FIELDS = {"__typename", "id", "legacyResourceId", "createdAt", "updatedAt", "processedAt", "name", "number"}

    def edit(self, orders: list | None = None, customers: list | None = None) -> dict:
        """A merchant's edits, stamped with the sandbox clock's now: the i-th entry of `orders`
        ({field: value}) goes to the shop's i-th order, of `customers` to its i-th customer.
        Fields are the node's own scalar or object fields (note, tags, email, firstName,
        defaultEmailAddress, shippingAddress, ...); null empties a nullable one. GraphQL answers
        only the fields a query asks for, so here drift means values changing shape within the
        schema: nulls where values were, unicode and very long texts, empty lists."""
        s, now = self.shop, self.clock.now()
        edited = {"orders": [], "customers": []}
        work = (("Order", orders or [], s.orders), ("Customer", customers or [], s.customers))
        for kind, changes, targets in work:       # all checked before any is applied
            if len(changes) > len(targets):
                raise ValueError(f"{len(changes)} {kind} edits for {len(targets)} {kind.lower()}s")
            for target, change in zip(targets, changes):
                if not isinstance(change, dict):
                    raise ValueError(f"each {kind} edit must be an object of fields")
                node = s.order_node(target) if kind == "Order" else s.customer_node(target)
                bad = [f for f in change if f in self.FIXED_FIELDS or f not in node or callable(node[f])]
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

    def expire_tokens(self) -> int:
        n = len(self.tokens)
        for t in self.tokens:
            self.tokens[t] = self.clock.now() - dt.timedelta(seconds=1)
        return n

    # -- auth and throttle -------------------------------------------------------------------------
    def token_ok(self, token: str | None) -> bool:
        if token == ACCESS_TOKEN:
            return True
        exp = self.tokens.get(token or "")
        return exp is not None and exp > self.clock.now()

    def issue_token(self) -> dict:
        token = "shpat_cc_" + secrets.token_hex(16)
        self.tokens[token] = self.clock.now() + dt.timedelta(seconds=TOKEN_TTL)
        return {"access_token": token, "scope": SCOPES, "expires_in": TOKEN_TTL}

    def bucket(self, token: str) -> list:
        b = self.buckets.setdefault(token, [self.maximum, time.monotonic()])
        now = time.monotonic()
        b[0] = min(self.maximum, b[0] + (now - b[1]) * self.restore_rate)
        b[1] = now
        return b

    def throttle_status(self, b: list) -> dict:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": int(b[0]), "restoreRate": self.restore_rate}

    # -- GraphQL -------------------------------------------------------------------------------------
    def root(self) -> dict:
        s = self.shop

        def by_gid(kind_expected: str | None, value: str):
            p = parse_gid(value)
            if not p:
                raise GraphQLError(f"Invalid global id '{value}'")
            kind, num = p
            if kind_expected and kind != kind_expected:
                return None
            if kind == "Order" and num in s.order_by_num:
                return s.order_node(s.order_by_num[num])
            if kind == "Refund" and num in s.refund_index:
                r, k = s.refund_index[num]
                return s.refund_node(r, k)
            if kind == "Customer" and num in s.customer_num:
                return s.customer_node(s.customer_num[num])
            if kind == "Product" and (num - 8_100_000_000) in s.product_created:
                return s.product_node(num - 8_100_000_000)
            if kind == "Location" and 0 <= num - 71_000_000 < len(LOCATIONS):
                return s.location_node(num - 71_000_000)
            if kind == "AbandonedCheckout":
                for c in s.checkouts:
                    if c["num"] == num:
                        return s.checkout_node(c)
            if kind == "BulkOperation" and num in self.bulk_ops:
                return self._poll(self.bulk_ops[num])
            return None

        def count(name):
            def resolve(info, query=None, limit=10000, **_):
                keys, _, _ = s.sorted_rows(name, None, query)
                n = len(keys)
                if limit is not None and n > limit:
                    return {"count": limit, "precision": "AT_LEAST"}
                return {"count": n, "precision": "EXACT"}
            return resolve

        def conn(name):
            return lambda info, **a: root_connection(s, name, info, a)

        def current(info, type="QUERY"):
            if not self.bulk_ops:
                return None
            return self._poll(self.bulk_ops[max(self.bulk_ops)])

        return {
            "node": lambda info, id: by_gid(None, id), "order": lambda info, id: by_gid("Order", id),
            "refund": lambda info, id: by_gid("Refund", id), "customer": lambda info, id: by_gid("Customer", id),
            "product": lambda info, id: by_gid("Product", id), "location": lambda info, id=None: by_gid("Location", id),
            "bulkOperation": lambda info, id: by_gid("BulkOperation", id), "currentBulkOperation": current,
            "orders": conn("orders"), "customers": conn("customers"), "products": conn("products"),
            "productVariants": conn("productVariants"), "inventoryItems": conn("inventoryItems"),
            "locations": conn("locations"), "collections": conn("collections"),
            "abandonedCheckouts": conn("abandonedCheckouts"), "events": conn("events"),
            "ordersCount": count("orders"), "customersCount": count("customers"), "productsCount": count("products"),
            "abandonedCheckoutsCount": count("abandonedCheckouts"),
            "bulkOperationRunQuery": self._run_bulk,
        }

    def graphql(self, body: dict, token: str) -> tuple[int, dict]:
        self.requests["graphql"] += 1
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return 200, {"errors": [{"message": "No query string was present"}]}
        try:
            doc = parse(query)
        except GraphQLError as err:
            return 200, {"errors": [err.formatted]}
        errors = validate(SCHEMA, doc)
        if errors:
            return 200, {"errors": [e.formatted for e in errors]}
        variables = body.get("variables") or {}
        ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
        op = ops[0] if len(ops) == 1 else next((d for d in ops if d.name and d.name.value == body.get("operationName")), None)
        if op is None:
            return 200, {"errors": [{"message": "An operation name is required"}]}
        fragments = {d.name.value: d for d in doc.definitions if d.kind == "fragment_definition"}
        is_mutation = op.operation.value == "mutation"
        root_type = SCHEMA.mutation_type if is_mutation else SCHEMA.query_type
        requested = MUTATION_COST if is_mutation else requested_cost(op.selection_set, root_type, variables, fragments)
        b = self.bucket(token)
        if requested > MAX_QUERY_COST:
            return 200, {"errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                                      "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}}]}
        forced = self.faults["throttled"] > 0
        if forced or requested > b[0]:
            if forced:
                self.faults["throttled"] -= 1
            self.requests["throttled"] += 1
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                         "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                                 "throttleStatus": self.throttle_status(b)}}}
        b[0] -= requested
        result = execute(SCHEMA, doc, root_value=self.root(), context_value={"sandbox": self},
                         variable_values=variables, operation_name=body.get("operationName"))
        out: dict = {}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        out["data"] = result.data
        actual = MUTATION_COST if is_mutation else actual_cost(result.data, op.selection_set, root_type, fragments)
        actual = min(actual, requested)
        b[0] = min(self.maximum, b[0] + requested - actual)
        self.cost_log.append({"requested": requested, "actual": actual})
        out["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                      "throttleStatus": self.throttle_status(b)}}
        return 200, out

    # -- bulk ------------------------------------------------------------------------------------------
    def _new_op(self, query: str) -> BulkOp:
        self.bulk_seq += 1
        op = BulkOp(self.bulk_seq, query, self.clock.now())
        op.min_polls = int(self.faults["bulk_polls"])
        self.bulk_ops[op.num] = op
        return op

    def _run_bulk(self, info, query: str, groupObjects: bool = False) -> dict:
        running = [op for op in self.bulk_ops.values() if op.status in ("CREATED", "RUNNING")]
        if running:
            return {"bulkOperation": None, "userErrors": [{
                "code": "OPERATION_IN_PROGRESS", "field": None,
                "message": f"A bulk query operation for this app and shop is already in progress: {gid('BulkOperation', running[0].num)}."}]}
        try:
            doc = parse(query)
        except GraphQLError as err:
            return {"bulkOperation": None, "userErrors": [{"code": "INVALID", "field": ["query"], "message": f"Invalid bulk query: {err.message}"}]}
        errors = validate(SCHEMA, doc)
        if errors:
            return {"bulkOperation": None, "userErrors": [{"code": "INVALID", "field": ["query"], "message": f"Invalid bulk query: {errors[0].message}"}]}
        op = self._new_op(query)
        self.requests["bulk_runs"] += 1
        fail = self.faults["bulk_fail"] > 0
        if fail:
            self.faults["bulk_fail"] -= 1
        threading.Thread(target=self._bulk_worker, args=(op, doc, fail), daemon=True).start()
        return {"bulkOperation": op.node(), "userErrors": []}

    def _bulk_worker(self, op: BulkOp, doc, fail: bool) -> None:
        op.status = "RUNNING"
        key = secrets.token_hex(8)
        path = self.bulk_dir / f"{key}.jsonl"
        objects = roots = 0
        chunk = 2000
        try:
            with open(path, "w") as fh:
                start = 0
                while True:
                    result = execute(SCHEMA, doc, root_value=self.root(),
                                     context_value={"bulk": True, "bulk_window": (start, chunk)})
                    if result.errors:
                        raise RuntimeError(result.errors[0].message)
                    conn = next(iter(result.data.values()))
                    nodes = conn.get("nodes") if "nodes" in conn else [e["node"] for e in conn.get("edges") or []]
                    for n in nodes:
                        rows: list = []
                        _flatten_bulk(n, None, rows)
                        for row in rows:
                            fh.write(json.dumps(row, separators=(",", ":")))
                            fh.write("\n")
                        objects += len(rows)
                        roots += 1
                        if fail and roots >= 3:
                            raise RuntimeError("injected failure")
                    if len(nodes) < chunk:
                        break
                    start += chunk
            op.objects, op.roots, op.size = objects, roots, path.stat().st_size
            self.files[key] = path
            op.url = f"{self.base_url}/shopify/bulk/{key}.jsonl"
            op.final = "COMPLETED"
        except Exception:   # noqa: BLE001 - a failed job is reported through the API, as Shopify does
            op.objects, op.roots = objects, roots
            if path.exists() and path.stat().st_size:
                self.files[key] = path
                op.partial_url = f"{self.base_url}/shopify/bulk/{key}.jsonl"
            op.error, op.final = "INTERNAL_SERVER_ERROR", "FAILED"
        op.done.set()

    def _poll(self, op: BulkOp) -> dict:
        op.polls += 1
        busy = getattr(op, "busy_polls", None)
        if busy is not None:
            if op.polls >= busy:
                op.status, op.completed, op.url = "COMPLETED", self.clock.now(), None
            return op.node()
        if op.done.is_set() and op.polls >= op.min_polls and op.status in ("CREATED", "RUNNING"):
            op.status, op.completed = op.final, self.clock.now()
        return op.node()


# ---- aiohttp wiring -----------------------------------------------------------------------------
APP_KEY = web.AppKey("shopify", ShopifySandbox)


def _sandbox(request: web.Request) -> ShopifySandbox:
    return request.app[APP_KEY]


async def _graphql(request: web.Request) -> web.StreamResponse:
    sb = _sandbox(request)
    sb.base_url = f"{request.scheme}://{request.host}"
    version = request.match_info["version"]
    if version not in API_VERSIONS and version != "unstable":
        return web.json_response({"errors": "Not Found"}, status=404)
    f = sb.faults
    if f["drop"] > 0:
        f["drop"] -= 1
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)
    if f["server_error"] > 0:
        f["server_error"] -= 1
        return web.json_response({"errors": "Internal Server Error"}, status=503)
    token = request.headers.get("X-Shopify-Access-Token")
    if not sb.token_ok(token):
        return web.json_response(INVALID_TOKEN_BODY, status=401)
    if f["http_429"] > 0:
        f["http_429"] -= 1
        return web.json_response({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."},
                                 status=429, headers={"Retry-After": str(f["retry_after"])})
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"errors": {"query": "Required parameter missing or invalid"}}, status=400)
    status, out = await asyncio.get_running_loop().run_in_executor(None, sb.graphql, body, token)
    return web.Response(status=status, body=json.dumps(out, separators=(",", ":")).encode(),
                        content_type="application/json",
                        headers={"X-Shopify-API-Version": version if version in API_VERSIONS else API_VERSIONS[-1]})


async def _access_token(request: web.Request) -> web.Response:
    sb = _sandbox(request)
    sb.requests["token"] += 1
    if request.content_type == "application/json":
        try:
            form = await request.json()
        except ValueError:
            form = {}
    else:
        form = dict(await request.post())
    if form.get("grant_type") != "client_credentials":
        return web.json_response({"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be client_credentials"}, status=400)
    if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
        return web.json_response({"error": "invalid_client",
                                  "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."},
                                 status=401)
    return web.json_response(sb.issue_token())


async def _bulk_file(request: web.Request) -> web.StreamResponse:
    sb = _sandbox(request)
    path = sb.files.get(request.match_info["key"])
    if path is None or not path.exists():
        return web.Response(status=404, text="<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code></Error>",
                            content_type="application/xml")
    sb.requests["bulk_download"] += 1
    return web.FileResponse(path, headers={"Content-Type": "application/jsonl"})


def add_routes(app: web.Application, world: World, clock: Clock | None = None, *, prefix: str = "/shopify",
               maximum: float = 2000, restore_rate: float = 100) -> ShopifySandbox:
    """Mount the Shopify vendor routes on `app`; returns the simulator state (also app[APP_KEY])."""
    sb = ShopifySandbox(world, clock, maximum=maximum, restore_rate=restore_rate)
    app[APP_KEY] = sb
    app.add_routes([
        web.post(prefix + "/admin/api/{version}/graphql.json", _graphql),
        web.post(prefix + "/admin/oauth/access_token", _access_token),
        web.get(prefix + "/bulk/{key}.jsonl", _bulk_file),
    ])
    return sb


def add_control_routes(app: web.Application) -> None:
    """/_sandbox/shopify/...: counts, truth, mutate, edit, faults, throttle, tokens/expire, reset, requests."""
    async def body_of(request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"error": "body must be JSON"}', content_type="application/json")
        return data if isinstance(data, dict) else {}

    async def counts(request):
        return web.json_response(_sandbox(request).counts())

    async def truth(request):
        return web.json_response(_sandbox(request).truth())

    async def truth_rows(request):
        return web.json_response(_sandbox(request).truth_rows())

    async def requests_(request):
        sb = _sandbox(request)
        return web.json_response({**sb.requests, "cost_requested": sum(c["requested"] for c in sb.cost_log),
                                  "cost_actual": sum(c["actual"] for c in sb.cost_log)})

    async def mutate(request):
        body = await body_of(request)
        try:
            return web.json_response(_sandbox(request).mutate(**body))
        except TypeError as err:
            return web.json_response({"error": str(err)}, status=400)

    async def edit(request):
        body = await body_of(request)
        try:
            return web.json_response(_sandbox(request).edit(body.get("orders"), body.get("customers")))
        except (TypeError, ValueError) as err:
            return web.json_response({"error": str(err)}, status=400)

    async def faults(request):
        body = await body_of(request)
        try:
            return web.json_response(_sandbox(request).set_faults(**body))
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)

    async def throttle(request):
        body = await body_of(request)
        return web.json_response(_sandbox(request).set_throttle(body.get("maximum"), body.get("restore_rate")))

    async def expire(request):
        return web.json_response({"expired": _sandbox(request).expire_tokens()})

    async def reset(request):
        sb = _sandbox(request)
        sb.load(sb.world)
        return web.json_response({"ok": True})

    app.add_routes([
        web.get("/_sandbox/shopify/counts", counts), web.get("/_sandbox/shopify/truth", truth),
        web.get("/_sandbox/shopify/truth/rows", truth_rows),
        web.get("/_sandbox/shopify/requests", requests_), web.post("/_sandbox/shopify/mutate", mutate),
        web.post("/_sandbox/shopify/edit", edit),
        web.post("/_sandbox/shopify/faults", faults), web.post("/_sandbox/shopify/throttle", throttle),
        web.post("/_sandbox/shopify/tokens/expire", expire), web.post("/_sandbox/shopify/reset", reset),
    ])


def make_app(world: World, clock: Clock | None = None, **kwargs) -> web.Application:
    """A stand-alone app with only the Shopify routes (tests, benchmarks)."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    add_routes(app, world, clock, **kwargs)
    add_control_routes(app)
    return app
