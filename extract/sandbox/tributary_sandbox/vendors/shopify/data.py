"""The shop: the shared world (world.py) projected into what Shopify would hold for this business,
as records (orders, customers, the catalogue, abandoned checkouts, deletion events) and the
GraphQL nodes built from them. No HTTP here: api.py serves these nodes, control.py changes them.

Money: integer cents from the world, served as MoneyBag/MoneyV2 {amount: "12.34", currencyCode}.
Totals reconcile: order total = subtotal (original line totals - discounts) + shipping + tax;
refunds = refund line subtotals + their tax = the refund transactions.
Discounts are modelled so the world's prices are the discounted prices (the original unit price
is marked up and a discount code allocation brings it back), so order totals equal the world's.
A few orders carry 300+ line items (a free sample sachet each), so nothing fits in one page.
"""
from __future__ import annotations

import datetime as dt
import re

from ...clock import Clock
from ...world import World, shopify_customer_id
from .connections import connection

SHOP = "tributary-sandbox"
BIG_ORDER_LINES = 300                                   # orders that need nested paging
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


def _spread(total: int, weights: list[int]) -> list[int]:
    """Split `total` cents in proportion to `weights`, remainder on the last part (sums exactly)."""
    s = sum(weights)
    if not s:
        return [0] * len(weights)
    parts = [total * w // s for w in weights]
    parts[-1] += total - sum(parts)
    return parts


# ---- Shopify's search syntax (a connection's `query:` argument) ---------------------------------
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
    """The shop's records (built from the world, changed by control.py's `mutate` and `edit`) and
    their GraphQL nodes."""

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
                self.refund_index[self.refund_num(r, k)] = (r, k)
        # deleted by `control.mutate`: out of every listing (each has a "destroy" event)
        self.deleted_customers: set[int] = set()
        self.deleted_collections: set[int] = set()
        self.deleted_order_idx = 0  # the highest: a new order never gets a deleted one's id
        # customers: everyone who ordered (ids shared with QuickBooks/Attio through world.py)
        self.customer_updated: dict[int, dt.datetime] = {}
        self.customer_marketing: dict[int, str] = {}
        self.rebuild_customers()
        # abandoned checkouts
        self.checkouts = self._build_checkouts()
        # fields changed by a merchant's edit (`control.edit`): ("Order", num) or
        # ("Customer", person idx) -> {field: value}, laid over the node built from the world
        self.edits: dict[tuple[str, int], dict] = {}
        # deletions (`control.mutate`): gone from every listing, each one a "destroy" event
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

    def rebuild_customers(self) -> None:
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

    def refund_num(self, r: OrderRec, k: int) -> int:
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
        # the world's own number where it has one (build_world's mess), else the shop's made-up one
        has_phone = bool(p.phones) or person_idx % 4 == 0
        phone_number = p.phones.get("shopify") or f"+1555{person_idx % 10_000_000:07d}"
        email = p.emails["shopify"]
        named = "shopify" not in p.unnamed_in
        spent = sum(self.order_totals(o)["total"] - self.order_totals(o)["refunded"] for o in orders)
        node = {"__typename": "Customer", "id": gid("Customer", num), "legacyResourceId": str(num),
                "firstName": p.first if named else None, "lastName": p.last if named else None,
                "displayName": f"{p.first} {p.last}" if named else (email or phone_number), "note": None,
                "state": "ENABLED" if person_idx % 7 else "DISABLED", "tags": [], "taxExempt": False,
                "verifiedEmail": True, "locale": "en", "createdAt": iso(created), "updatedAt": iso(updated),
                "numberOfOrders": str(len(orders)), "amountSpent": money(spent),
                "defaultEmailAddress": None if email is None else {
                    "emailAddress": email, "marketingState": marketing,
                    "marketingOptInLevel": "SINGLE_OPT_IN" if marketing == "SUBSCRIBED" else None,
                    "marketingUpdatedAt": iso(created) if marketing != "NOT_SUBSCRIBED" else None,
                    "validFormat": True},
                "defaultPhoneNumber": None if not has_phone else {
                    "phoneNumber": phone_number,
                    "smsMarketingConsent": {"state": "SUBSCRIBED" if person_idx % 8 == 0 else "NEVER_SUBSCRIBED",
                                            "optInLevel": "SINGLE_OPT_IN", "updatedAt": iso(created),
                                            "collectedFrom": "SHOPIFY"}},
                "defaultAddress": addresses[0]}
        # the same consent where API versions before 2026-10 keep it (deprecated there from 2026-10 on)
        sms = has_phone and node["defaultPhoneNumber"]["smsMarketingConsent"]
        node["smsMarketingConsent"] = None if not sms else {
            # (CustomerSmsMarketingState says NOT_SUBSCRIBED where the 2026-10 enum says NEVER_SUBSCRIBED)
            "marketingState": {"NEVER_SUBSCRIBED": "NOT_SUBSCRIBED"}.get(sms["state"], sms["state"]),
            "marketingOptInLevel": sms["optInLevel"],
            "consentUpdatedAt": sms["updatedAt"], "consentCollectedFrom": sms["collectedFrom"]}
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
        num = self.refund_num(r, k)
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
        """(sort keys, payloads, node builder) of table `name` filtered by `query` (search syntax)
        and ordered by `sort_key` then id; cached until the next change (`touch`)."""
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
