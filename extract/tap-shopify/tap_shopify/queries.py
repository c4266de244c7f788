"""Every GraphQL document tap-shopify can send, built from one declaration per resource.

A resource is declared once (ORDER, CUSTOMER, ...) as a tree of fields; from it come:
  * the paged query (`page_query`), with each nested connection asking for a first page
    (`first: N`) plus pageInfo, so truncation is always visible;
  * the follow-up query for a nested connection longer than one page (`nested_query`, e.g.
    `order(id:) { lineItems(first:, after:) }`), paged to its end;
  * the bulk-operation query (`bulk_query`: no page sizes, `edges { node { __typename ... } } }`
    for nested connections so JSONL child rows can be put back where they belong), and the
    bulkOperationRunQuery mutation and poll queries;
  * the stream's JSON schema (`json_schema`), so records match it by construction;
  * a requested-cost estimate by Shopify's published rules (object 1, connection 2 + first x
    node, scalar/enum 0), used to size pages under the 1,000-point single-query limit.
`all_documents(version)` lists them all; tests/test_schema.py validates each one against
Shopify's published schema for the configured API version.

Field choices: Shopify's own (camelCase) field names are kept; money is MoneyBag.shopMoney
(amount is a decimal string, exact to the cent); deprecated fields are avoided where the
configured version has a replacement (see `Since`).
"""
from __future__ import annotations

import dataclasses
import typing as t

MAX_QUERY_COST = 1000      # Shopify: a single query may not request more than 1,000 points
MAX_PAGE = 250             # Shopify: first/last <= 250


# ---- the declaration language ---------------------------------------------------------------------
LEAF_JSON = {
    "ID": {"type": ["string", "null"]},
    "String": {"type": ["string", "null"]},
    "Enum": {"type": ["string", "null"]},
    "URL": {"type": ["string", "null"]},
    "Decimal": {"type": ["string", "null"]},        # Shopify serialises Decimal/Money as strings
    "Money": {"type": ["string", "null"]},
    "UInt64": {"type": ["string", "null"]},         # UnsignedInt64 arrives as a string
    "DateTime": {"type": ["string", "null"], "format": "date-time"},
    "Int": {"type": ["integer", "null"]},
    "Float": {"type": ["number", "null"]},
    "Boolean": {"type": ["boolean", "null"]},
    "[String]": {"type": ["array", "null"], "items": {"type": "string"}},
}


@dataclasses.dataclass(frozen=True)
class Obj:
    """An object selection; `fields` maps a field (with its arguments, if any) to its spec."""
    typename: str
    fields: dict


@dataclasses.dataclass(frozen=True)
class Lst:
    """A plain list of objects (not a connection: Shopify returns it whole)."""
    item: Obj


@dataclasses.dataclass(frozen=True)
class Conn:
    """A connection nested in a record: first page inline, the rest by follow-up queries."""
    node: Obj
    first: int
    typenames: tuple = ()       # node __typename values (interfaces), for bulk reassembly


@dataclasses.dataclass(frozen=True)
class Since:
    """A field that exists (or replaces a deprecated one) from `version` on."""
    version: str
    spec: t.Any


@dataclasses.dataclass(frozen=True)
class Until:
    """A field used before `version` (deprecated from then on, replaced by a `Since` field)."""
    version: str
    spec: t.Any


def _active(spec, version: str):
    """The spec to use for `version`, or None when the field is not sent at this version."""
    if isinstance(spec, Since):
        return spec.spec if version >= spec.version else None
    if isinstance(spec, Until):
        return spec.spec if version < spec.version else None
    return spec


def key_of(field: str) -> str:
    """Response key of `name(args)`."""
    return field.split("(", 1)[0].strip()


def obj(typename: str, **fields) -> Obj:
    return Obj(typename, fields)


MONEY = obj("MoneyBag", shopMoney=obj("MoneyV2", amount="Decimal", currencyCode="Enum"))
MONEY_V2 = obj("MoneyV2", amount="Decimal", currencyCode="Enum")
REF = obj("Node", id="ID")                                     # a reference: just the GID
TAX_LINE = obj("TaxLine", title="String", rate="Float", ratePercentage="Float", priceSet=MONEY,
               channelLiable="Boolean")
ADDRESS = obj("MailingAddress", id="ID", firstName="String", lastName="String", company="String",
              address1="String", address2="String", city="String", province="String",
              provinceCode="String", country="String", countryCodeV2="Enum", zip="String", phone="String")
COUNT = obj("Count", count="Int", precision="Enum")

DISCOUNT_APPLICATION = obj(
    "DiscountApplication", __typename="String", index="Int", allocationMethod="Enum",
    targetSelection="Enum", targetType="Enum",
    value=obj("PricingValue", **{
        "... on MoneyV2 { amount currencyCode }": None,
        "... on PricingPercentageValue { percentage }": None,
    }),
    **{"... on DiscountCodeApplication { code }": None,
       "... on AutomaticDiscountApplication { title }": None,
       "... on ManualDiscountApplication { title description }": None},
)
DISCOUNT_TYPES = ("DiscountCodeApplication", "AutomaticDiscountApplication", "ManualDiscountApplication",
                  "ScriptDiscountApplication")

LINE_ITEM = obj(
    "LineItem", id="ID", name="String", title="String", variantTitle="String", sku="String",
    vendor="String", quantity="Int", currentQuantity="Int", requiresShipping="Boolean",
    taxable="Boolean", isGiftCard="Boolean", variant=REF, product=REF,
    originalUnitPriceSet=MONEY, originalTotalSet=MONEY,
    totalDiscountSet=MONEY,
    taxLines=Lst(TAX_LINE),
    discountAllocations=Lst(obj("DiscountAllocation", allocatedAmountSet=MONEY,
                                discountApplication=obj("DiscountApplication", index="Int"))),
)
SHIPPING_LINE = obj("ShippingLine", id="ID", title="String", code="String", source="String",
                    carrierIdentifier="String", custom="Boolean", isRemoved="Boolean",
                    originalPriceSet=MONEY, discountedPriceSet=MONEY, taxLines=Lst(TAX_LINE))
TRANSACTION = obj("OrderTransaction", id="ID", kind="Enum", status="Enum", gateway="String", test="Boolean",
                  createdAt="DateTime", processedAt="DateTime", amountSet=MONEY,
                  parentTransaction=obj("OrderTransaction", id="ID"), errorCode="Enum")
REFUND_LINE_ITEM = obj("RefundLineItem", id="ID", lineItem=obj("LineItem", id="ID"), quantity="Int",
                       restockType="Enum", restocked="Boolean", priceSet=MONEY, subtotalSet=MONEY,
                       totalTaxSet=MONEY)
REFUND = obj("Refund", id="ID", note="String", createdAt="DateTime", updatedAt="DateTime",
             totalRefundedSet=MONEY,
             refundLineItems=Conn(REFUND_LINE_ITEM, 5, ("RefundLineItem",)),
             transactions=Conn(TRANSACTION, 2, ("OrderTransaction",)))
FULFILLMENT = obj("Fulfillment", id="ID", name="String", status="Enum", displayStatus="Enum",
                  createdAt="DateTime", updatedAt="DateTime", deliveredAt="DateTime", totalQuantity="Int",
                  requiresShipping="Boolean", location=REF,
                  trackingInfo=Lst(obj("FulfillmentTrackingInfo", company="String", number="String", url="URL")))

ORDER = obj(
    "Order", id="ID", name="String", number="Int", email="String", phone="String",
    createdAt="DateTime", updatedAt="DateTime", processedAt="DateTime", cancelledAt="DateTime",
    cancelReason="Enum", closed="Boolean", closedAt="DateTime", confirmed="Boolean", test="Boolean",
    currencyCode="Enum", presentmentCurrencyCode="Enum", displayFinancialStatus="Enum",
    displayFulfillmentStatus="Enum", sourceName="String", tags="[String]", note="String",
    discountCodes="[String]", taxesIncluded="Boolean", subtotalLineItemsQuantity="Int",
    customer=REF, shippingAddress=ADDRESS, billingAddress=ADDRESS,
    subtotalPriceSet=MONEY, totalDiscountsSet=MONEY, totalShippingPriceSet=MONEY, totalTaxSet=MONEY,
    totalPriceSet=MONEY, totalRefundedSet=MONEY, currentTotalPriceSet=MONEY, totalOutstandingSet=MONEY,
    taxLines=Lst(TAX_LINE),
    lineItems=Conn(LINE_ITEM, 5, ("LineItem",)),
    discountApplications=Conn(DISCOUNT_APPLICATION, 2, DISCOUNT_TYPES),
    shippingLines=Conn(SHIPPING_LINE, 1, ("ShippingLine",)),
    fulfillments=Lst(FULFILLMENT),           # a list: Shopify returns all of them
    refunds=Lst(REFUND),
    transactions=Lst(TRANSACTION),
)

SMS_CONSENT_NEW = obj("CustomerSmsMarketingConsent", state="Enum", optInLevel="Enum", updatedAt="DateTime",
                      collectedFrom="Enum")
CUSTOMER = obj(
    "Customer", id="ID", firstName="String", lastName="String", displayName="String", note="String",
    state="Enum", tags="[String]", taxExempt="Boolean", verifiedEmail="Boolean", locale="String",
    createdAt="DateTime", updatedAt="DateTime", numberOfOrders="UInt64", amountSpent=MONEY_V2,
    defaultEmailAddress=obj("CustomerEmailAddress", emailAddress="String", marketingState="Enum",
                            marketingOptInLevel="Enum", marketingUpdatedAt="DateTime"),
    defaultPhoneNumber=obj("CustomerPhoneNumber", phoneNumber="String",
                           smsMarketingConsent=Since("2026-10", SMS_CONSENT_NEW)),
    # before 2026-10 the SMS consent lives on the customer (deprecated from 2026-10 on)
    smsMarketingConsent=Until("2026-10", obj("CustomerSmsMarketingConsentState", marketingState="Enum",
                                             marketingOptInLevel="Enum", consentUpdatedAt="DateTime",
                                             consentCollectedFrom="Enum")),
    defaultAddress=ADDRESS,
    addressesV2=Conn(ADDRESS, 5, ("MailingAddress",)),
)

PRODUCT = obj("Product", id="ID", title="String", handle="String", vendor="String", productType="String",
              status="Enum", tags="[String]", createdAt="DateTime", updatedAt="DateTime",
              publishedAt="DateTime", totalInventory="Int", tracksInventory="Boolean", variantsCount=COUNT)
VARIANT = obj("ProductVariant", id="ID", title="String", displayName="String", sku="String", barcode="String",
              price="Money", compareAtPrice="Money", position="Int", taxable="Boolean",
              availableForSale="Boolean", inventoryPolicy="Enum", inventoryQuantity="Int",
              createdAt="DateTime", updatedAt="DateTime",
              selectedOptions=Lst(obj("SelectedOption", name="String", value="String")),
              product=REF, inventoryItem=REF)
INVENTORY_ITEM = obj("InventoryItem", id="ID", sku="String", tracked="Boolean", requiresShipping="Boolean",
                     countryCodeOfOrigin="Enum", harmonizedSystemCode="String", unitCost=MONEY_V2,
                     createdAt="DateTime", updatedAt="DateTime")
QUANTITY_NAMES = ("available", "committed", "incoming", "on_hand", "reserved")
INVENTORY_LEVEL = obj("InventoryLevel", id="ID", createdAt="DateTime", updatedAt="DateTime", item=REF,
                      location=REF,
                      **{'quantities(names: ["available", "committed", "incoming", "on_hand", "reserved"])':
                         Lst(obj("InventoryQuantity", name="String", quantity="Int", updatedAt="DateTime"))})
LOCATION = obj("Location", id="ID", name="String", isActive="Boolean", fulfillsOnlineOrders="Boolean",
               shipsInventory="Boolean", hasActiveInventory="Boolean", createdAt="DateTime", updatedAt="DateTime",
               address=obj("LocationAddress", address1="String", address2="String", city="String", province="String",
                           provinceCode="String", country="String", countryCode="String", zip="String",
                           phone="String"))
COLLECTION = obj("Collection", id="ID", title="String", handle="String", description="String",
                 sortOrder="Enum", templateSuffix="String", updatedAt="DateTime", productsCount=COUNT)
CHECKOUT_LINE = obj("AbandonedCheckoutLineItem", id="ID", title="String", variantTitle="String", sku="String",
                    quantity="Int", variant=REF, product=REF, originalUnitPriceSet=MONEY,
                    originalTotalPriceSet=MONEY, discountedTotalPriceSet=MONEY)
ABANDONED_CHECKOUT = obj("AbandonedCheckout", id="ID", name="String", abandonedCheckoutUrl="URL",
                         createdAt="DateTime", updatedAt="DateTime", completedAt="DateTime", note="String",
                         taxesIncluded="Boolean", discountCodes="[String]", customer=REF,
                         subtotalPriceSet=MONEY, totalDiscountSet=MONEY, totalTaxSet=MONEY, totalPriceSet=MONEY,
                         taxLines=Lst(TAX_LINE),
                         lineItems=Conn(CHECKOUT_LINE, 5, ("AbandonedCheckoutLineItem",)))

# How to fetch one node of a type again (for the follow-up pages of its nested connections).
NODE_ROOTS = {"Order": "order", "Refund": "refund", "Customer": "customer"}


# ---- rendering -----------------------------------------------------------------------------------
def fields_of(o: Obj, version: str) -> list[tuple[str, t.Any]]:
    out = []
    for field, spec in o.fields.items():
        spec = _active(spec, version) if spec is not None else None
        if spec is None and field in o.fields and o.fields[field] is not None:
            continue
        out.append((field, spec))
    return out


def render(o: Obj, version: str, *, bulk: bool = False, typename: bool = False) -> str:
    parts = ["__typename"] if typename and "__typename" not in o.fields else []
    for field, spec in fields_of(o, version):
        if spec is None:                       # an inline fragment written out in full
            parts.append(field)
        elif isinstance(spec, str):
            parts.append(field)
        elif isinstance(spec, Obj):
            parts.append(f"{field} {{ {render(spec, version, bulk=bulk)} }}")
        elif isinstance(spec, Lst):
            parts.append(f"{field} {{ {render(spec.item, version, bulk=bulk)} }}")
        elif isinstance(spec, Conn):
            if bulk:
                parts.append(f"{field} {{ edges {{ node {{ {render(spec.node, version, bulk=True, typename=True)} }} }} }}")
            else:
                parts.append(f"{field}(first: {spec.first}) {{ pageInfo {{ hasNextPage endCursor }} "
                             f"nodes {{ {render(spec.node, version)} }} }}")
    return " ".join(parts)


def node_cost(o: Obj, version: str) -> int:
    """Requested cost of one object's selection (its own 1 point excluded), Shopify's rules."""
    total = 0
    for field, spec in fields_of(o, version):
        if spec is None or isinstance(spec, str):      # leaves (and leaf-only fragments) cost 0
            continue
        if isinstance(spec, Obj):
            total += 1 + node_cost(spec, version)
        elif isinstance(spec, Lst):
            total += 1 + node_cost(spec.item, version)
        elif isinstance(spec, Conn):
            total += 2 + spec.first * (1 + node_cost(spec.node, version))
    return total


@dataclasses.dataclass(frozen=True)
class Resource:
    """A top-level stream's source: `root` connection (or `parent.field` for a connection of a
    parent node), its node declaration, sort key and search support."""
    root: str
    node: Obj
    sort_key: str | None = None          # None: the connection has no sortKey argument
    search: bool = True                  # accepts query: "updated_at:>=..."
    count_root: str | None = None        # e.g. ordersCount: decides paged vs bulk
    parent_root: str | None = None       # e.g. "location": root(id:) { <root>(...) }

    def page_size(self, version: str, wanted: int) -> int:
        per = 1 + node_cost(self.node, version)
        fit = (MAX_QUERY_COST - 2 - (1 if self.parent_root else 0)) // per
        return max(1, min(wanted, MAX_PAGE, fit))

    def page_query(self, version: str) -> str:
        args = ["first: $first", "after: $after"]
        params = ["$first: Int!", "$after: String"]
        if self.search:
            args.append("query: $query")
            params.append("$query: String")
        if self.sort_key:
            args.append(f"sortKey: {self.sort_key}")
        body = f"{self.root}({', '.join(args)}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {render(self.node, version)} }} }}"
        if self.parent_root:
            params.insert(0, "$parentId: ID!")
            body = f"{self.parent_root}(id: $parentId) {{ {body} }}"
        return f"query Page({', '.join(params)}) {{ {body} }}"

    def count_query(self) -> str | None:
        if not self.count_root:
            return None
        return f"query Count($query: String, $limit: Int) {{ {self.count_root}(query: $query, limit: $limit) {{ count precision }} }}"

    def bulk_query(self, version: str, search: str | None) -> str:
        args = []
        if search:
            args.append(f"query: {quote(search)}")
        if self.sort_key:
            args.append(f"sortKey: {self.sort_key}")
        arg_text = f"({', '.join(args)})" if args else ""
        return f"{{ {self.root}{arg_text} {{ edges {{ node {{ {render(self.node, version, bulk=True)} }} }} }} }}"


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nested_connections(o: Obj, version: str, path: tuple = ()) -> list[tuple[tuple, Obj, str, Conn]]:
    """(path to the holder, holder declaration, field, Conn) for every nested connection; a path
    element "*" steps into each item of a list (e.g. refunds[*].refundLineItems)."""
    out = []
    for field, spec in fields_of(o, version):
        if isinstance(spec, Conn):
            out.append((path, o, field, spec))
        elif isinstance(spec, Lst):
            out += nested_connections(spec.item, version, path + (key_of(field), "*"))
        elif isinstance(spec, Obj):
            out += nested_connections(spec, version, path + (key_of(field),))
    return out


def nested_query(holder: Obj, field: str, conn: Conn, version: str) -> tuple[str, str, int]:
    """(query, root field, page size) paging `holder.field` to its end."""
    per = 1 + node_cost(conn.node, version)
    first = max(1, min(MAX_PAGE, (MAX_QUERY_COST - 3) // per))
    inner = f"{key_of(field)}(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {render(conn.node, version)} }} }}"
    root = NODE_ROOTS.get(holder.typename)
    if root:
        return f"query Nested($id: ID!, $first: Int!, $after: String) {{ {root}(id: $id) {{ {inner} }} }}", root, first
    return (f"query Nested($id: ID!, $first: Int!, $after: String) {{ node(id: $id) {{ ... on {holder.typename} {{ {inner} }} }} }}",
            "node", first)


# ---- bulk operations ------------------------------------------------------------------------------
BULK_RUN = """mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}"""
BULK_FIELDS = "id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl"


def bulk_poll_query(version: str) -> str:
    # bulkOperation(id:) arrived in 2026-01; currentBulkOperation is deprecated from then on.
    if version >= "2026-01":
        return f"query BulkPoll($id: ID!) {{ bulkOperation(id: $id) {{ {BULK_FIELDS} }} }}"
    return f"query BulkPoll {{ currentBulkOperation(type: QUERY) {{ {BULK_FIELDS} }} }}"


# ---- JSON schema ----------------------------------------------------------------------------------
def json_schema(o: Obj, version: str) -> dict:
    props: dict = {}
    for field, spec in fields_of(o, version):
        if spec is None:
            # an inline fragment: its fields join the object's (nullable: other types lack them)
            inner = field.split("{", 1)[1].rsplit("}", 1)[0].split()
            on = field.split()[2]
            for name in inner:
                props[name] = dict(FRAGMENT_LEAVES.get((on, name), {"type": ["string", "null"]}))
            continue
        key = key_of(field)
        if isinstance(spec, str):
            props[key] = dict(LEAF_JSON[spec])
        elif isinstance(spec, Obj):
            props[key] = {**json_schema(spec, version), "type": ["object", "null"]}
        elif isinstance(spec, Lst):
            props[key] = {"type": ["array", "null"], "items": {**json_schema(spec.item, version), "type": ["object"]}}
        elif isinstance(spec, Conn):
            props[key] = {"type": ["array", "null"], "items": {**json_schema(spec.node, version), "type": ["object"]}}
    return {"type": ["object", "null"], "properties": props}


FRAGMENT_LEAVES = {
    ("MoneyV2", "amount"): {"type": ["string", "null"]},
    ("MoneyV2", "currencyCode"): {"type": ["string", "null"]},
    ("PricingPercentageValue", "percentage"): {"type": ["number", "null"]},
}


def stream_schema(resource: Resource, version: str, extra: dict | None = None) -> dict:
    s = json_schema(resource.node, version)
    props = {"legacyResourceId": {"type": ["integer", "null"]}, **s["properties"], **(extra or {})}
    return {"type": "object", "properties": props}


# ---- the resources ---------------------------------------------------------------------------------
RESOURCES = {
    "orders": Resource("orders", ORDER, "UPDATED_AT", count_root="ordersCount"),
    "customers": Resource("customers", CUSTOMER, "UPDATED_AT", count_root="customersCount"),
    "products": Resource("products", PRODUCT, "UPDATED_AT", count_root="productsCount"),
    "product_variants": Resource("productVariants", VARIANT, "ID"),
    "inventory_items": Resource("inventoryItems", INVENTORY_ITEM, None),
    "locations": Resource("locations", LOCATION, "ID", search=False),
    "inventory_levels": Resource("inventoryLevels", INVENTORY_LEVEL, None, search=False, parent_root="location"),
    "collections": Resource("collections", COLLECTION, "UPDATED_AT"),
    "abandoned_checkouts": Resource("abandonedCheckouts", ABANDONED_CHECKOUT, "CREATED_AT",
                                    count_root="abandonedCheckoutsCount"),
}


# Deletions: Shopify keeps an event per deleted order, customer, product, variant or collection
# for a year (`events`, action "destroy"; `deletionEvents`, products and collections only, is
# deprecated in its favour). The stream -> the subject type its deletions carry.
DELETED_SUBJECTS = {"orders": "ORDER", "customers": "CUSTOMER", "products": "PRODUCT",
                    "product_variants": "PRODUCT_VARIANT", "collections": "COLLECTION"}
DELETIONS = """query Deletions($first: Int!, $after: String, $query: String) {
  events(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id createdAt action ... on BasicEvent { subjectId subjectType } }
  }
}"""


def all_documents(version: str) -> dict[str, str]:
    """Every document the tap can send at `version` (bulk inner queries included as queries)."""
    docs: dict[str, str] = {"bulk_run": BULK_RUN, "bulk_poll": bulk_poll_query(version), "deletions": DELETIONS}
    for name, res in RESOURCES.items():
        docs[f"{name}:page"] = res.page_query(version)
        if res.count_root:
            docs[f"{name}:count"] = res.count_query()
        if not res.parent_root:
            docs[f"{name}:bulk"] = res.bulk_query(version, "updated_at:>='2025-01-01T00:00:00Z'" if res.search else None)
        for path, holder, field, conn in nested_connections(res.node, version):
            docs[f"{name}:nested:{'.'.join(path + (key_of(field),))}"] = nested_query(holder, field, conn, version)[0]
    return docs
