"""Shopify's published Admin GraphQL schema, cut to what the simulator serves, one file per API
version (schema/<version>.graphql). Generated, never edited by hand:

    python -m tributary_sandbox.vendors.shopify.schema_gen          # npm pack @shopify/dev-mcp, write the files
    python -m tributary_sandbox.vendors.shopify.schema_gen --check  # exit 1 when a file differs from Shopify's

The simulator's surface (SURFACE: the types and fields its data answers, the arguments its resolvers
take) is ours; everything else comes from Shopify's schema of each version: field types and
nullability, argument types, every enum value, interfaces and unions. A field of the surface that a
version does not have is left out of that version's file (Customer.smsMarketingConsent moved to
the phone number in 2026-10; bulkOperation(id:) arrived in 2026-01), so a query the real version
would refuse is refused here too.
"""
from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_client_schema,
    get_named_type,
    print_ast,
)
from graphql.utilities import ast_from_value

NPM_PACKAGE = "@shopify/dev-mcp"
NPM_VERSION = "1.16.0"   # pinned: a new release may drop a version or change one; bump it and regenerate
OUT = Path(__file__).with_name("schema")
ROOTS = ("QueryRoot", "Mutation")

# type -> "field field(arg arg) …": what the simulator's data and resolvers answer
SURFACE = {
    "Node": "id",
    "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
    "MoneyV2": "amount currencyCode",
    "MoneyBag": "shopMoney presentmentMoney",
    "Count": "count precision",
    "Weight": "unit value",
    "TaxLine": "title rate ratePercentage priceSet channelLiable source",
    "MailingAddress": "id firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone",
    "PricingPercentageValue": "percentage",
    "DiscountApplication": "allocationMethod index targetSelection targetType value",
    "DiscountCodeApplication": "allocationMethod code index targetSelection targetType value",
    "AutomaticDiscountApplication": "allocationMethod index targetSelection targetType title value",
    "ManualDiscountApplication": "allocationMethod description index targetSelection targetType title value",
    "DiscountAllocation": "allocatedAmountSet discountApplication",
    "DiscountApplicationEdge": "cursor node",
    "DiscountApplicationConnection": "edges nodes pageInfo",
    "Order": "id legacyResourceId name number email phone createdAt updatedAt processedAt cancelledAt cancelReason closed closedAt confirmed test currencyCode presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus sourceName tags note discountCodes taxesIncluded subtotalLineItemsQuantity customer shippingAddress billingAddress subtotalPriceSet totalDiscountsSet totalShippingPriceSet totalTaxSet totalPriceSet totalRefundedSet currentTotalPriceSet totalOutstandingSet taxLines lineItems(after before first last reverse) discountApplications(after before first last reverse) shippingLines(after before first includeRemovals last reverse) fulfillments(first query) refunds(first) transactions(capturable first manuallyResolvable)",
    "OrderEdge": "cursor node",
    "OrderConnection": "edges nodes pageInfo",
    "LineItem": "id name title variantTitle sku vendor quantity currentQuantity requiresShipping taxable isGiftCard variant product originalUnitPriceSet originalTotalSet discountedUnitPriceAfterAllDiscountsSet totalDiscountSet taxLines(first) discountAllocations",
    "LineItemEdge": "cursor node",
    "LineItemConnection": "edges nodes pageInfo",
    "ShippingLine": "id title code source carrierIdentifier custom isRemoved originalPriceSet discountedPriceSet taxLines",
    "ShippingLineEdge": "cursor node",
    "ShippingLineConnection": "edges nodes pageInfo",
    "FulfillmentTrackingInfo": "company number url",
    "Fulfillment": "id legacyResourceId name status displayStatus createdAt updatedAt deliveredAt totalQuantity requiresShipping location trackingInfo(first)",
    "OrderTransaction": "id kind status gateway formattedGateway test createdAt processedAt amountSet parentTransaction errorCode",
    "OrderTransactionEdge": "cursor node",
    "OrderTransactionConnection": "edges nodes pageInfo",
    "Refund": "id legacyResourceId note createdAt updatedAt processedAt totalRefundedSet refundLineItems(after before first last reverse) transactions(after before first last reverse)",
    "RefundLineItem": "id lineItem quantity restockType restocked priceSet subtotalSet totalTaxSet",
    "RefundLineItemEdge": "cursor node",
    "RefundLineItemConnection": "edges nodes pageInfo",
    "CustomerEmailAddress": "emailAddress marketingState marketingOptInLevel marketingUpdatedAt validFormat",
    "CustomerSmsMarketingConsent": "state optInLevel updatedAt collectedFrom",
    "CustomerPhoneNumber": "phoneNumber smsMarketingConsent",
    "Customer": "id legacyResourceId firstName lastName displayName note state tags taxExempt verifiedEmail locale createdAt updatedAt numberOfOrders amountSpent defaultEmailAddress defaultPhoneNumber defaultAddress addressesV2(after before first last reverse) smsMarketingConsent",
    "CustomerSmsMarketingConsentState": "marketingState marketingOptInLevel consentUpdatedAt consentCollectedFrom",
    "CustomerEdge": "cursor node",
    "CustomerConnection": "edges nodes pageInfo",
    "MailingAddressEdge": "cursor node",
    "MailingAddressConnection": "edges nodes pageInfo",
    "Product": "id legacyResourceId title handle vendor productType status tags createdAt updatedAt publishedAt totalInventory tracksInventory variantsCount variants(after before first last reverse sortKey)",
    "ProductEdge": "cursor node",
    "ProductConnection": "edges nodes pageInfo",
    "SelectedOption": "name value",
    "ProductVariant": "id legacyResourceId title displayName sku barcode price compareAtPrice position taxable availableForSale inventoryPolicy inventoryQuantity createdAt updatedAt selectedOptions product inventoryItem",
    "ProductVariantEdge": "cursor node",
    "ProductVariantConnection": "edges nodes pageInfo",
    "InventoryItem": "id legacyResourceId sku tracked requiresShipping countryCodeOfOrigin harmonizedSystemCode unitCost createdAt updatedAt inventoryLevels(after before first includeInactive last query reverse)",
    "InventoryItemEdge": "cursor node",
    "InventoryItemConnection": "edges nodes pageInfo",
    "InventoryQuantity": "id name quantity updatedAt",
    "InventoryLevel": "id isActive createdAt updatedAt item location quantities(names)",
    "InventoryLevelEdge": "cursor node",
    "InventoryLevelConnection": "edges nodes pageInfo",
    "LocationAddress": "address1 address2 city province provinceCode country countryCode zip phone",
    "Location": "id legacyResourceId name isActive fulfillsOnlineOrders shipsInventory hasActiveInventory createdAt updatedAt address inventoryLevels(after before first includeInactive last query reverse)",
    "LocationEdge": "cursor node",
    "LocationConnection": "edges nodes pageInfo",
    "Collection": "id legacyResourceId title handle description sortOrder templateSuffix updatedAt productsCount",
    "CollectionEdge": "cursor node",
    "CollectionConnection": "edges nodes pageInfo",
    "AbandonedCheckoutLineItem": "id title variantTitle sku quantity variant product originalUnitPriceSet originalTotalPriceSet discountedTotalPriceSet",
    "AbandonedCheckoutLineItemEdge": "cursor node",
    "AbandonedCheckoutLineItemConnection": "edges nodes pageInfo",
    "AbandonedCheckout": "id name abandonedCheckoutUrl createdAt updatedAt completedAt note taxesIncluded discountCodes customer subtotalPriceSet totalDiscountSet totalTaxSet totalPriceSet taxLines lineItems(after before first last reverse)",
    "AbandonedCheckoutEdge": "cursor node",
    "AbandonedCheckoutConnection": "edges nodes pageInfo",
    "BulkOperation": "id status type query errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl",
    "BulkOperationUserError": "code field message",
    "BulkOperationRunQueryPayload": "bulkOperation userErrors",
    "Event": "action createdAt id message",
    "BasicEvent": "action createdAt id message subjectId subjectType",
    "EventEdge": "cursor node",
    "EventConnection": "edges nodes pageInfo",
    "QueryRoot": "events(after before first last query reverse sortKey) node(id) order(id) orders(after before first last query reverse savedSearchId sortKey) ordersCount(limit query savedSearchId) refund(id) customer(id) customers(after before first last query reverse sortKey) customersCount(limit query) product(id) products(after before first last query reverse savedSearchId sortKey) productsCount(limit query savedSearchId) productVariants(after before first last query reverse savedSearchId sortKey) inventoryItems(after before first last query reverse) location(id) locations(after before first includeInactive includeLegacy last query reverse sortKey) collections(after before first last query reverse savedSearchId sortKey) abandonedCheckouts(after before first last query reverse savedSearchId sortKey) abandonedCheckoutsCount(limit query savedSearchId) bulkOperation(id) currentBulkOperation(type)",
    "Mutation": "bulkOperationRunQuery(groupObjects query)",
}


def published_schemas(package_dir: Path | None = None) -> tuple[str, dict]:
    """(the package's version, {API version: GraphQLSchema}) from the npm package."""
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(package_dir or tmp)
        tgz = next(where.glob("*.tgz"), None)
        if tgz is None:
            done = subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"], cwd=where, capture_output=True,
                                  text=True, timeout=300)
            tgz = next(where.glob("*.tgz"), None)
            if done.returncode != 0 or tgz is None:
                raise SystemExit(f"npm pack {NPM_PACKAGE} failed: {done.stderr.strip()[-300:]}")
        schemas = {}
        with tarfile.open(tgz) as tar:
            package = json.loads(tar.extractfile("package/package.json").read())["version"]
            for member in tar.getmembers():
                name = Path(member.name).name
                if name.startswith("admin_") and name.endswith(".json.gz"):
                    data = json.loads(gzip.decompress(tar.extractfile(member).read()))
                    schemas[name[len("admin_"):-len(".json.gz")]] = build_client_schema(data.get("data", data),
                                                                                          assume_valid=True)
    return package, schemas


def surface() -> dict[str, dict[str, list[str]]]:
    out = {}
    for type_name, text in SURFACE.items():
        fields: dict[str, list[str]] = {}
        current, in_args = None, False
        for token in text.replace("(", " ( ").replace(")", " ) ").split():
            if token == "(":
                in_args = True
            elif token == ")":
                in_args = False
            elif in_args:
                fields[current].append(token)
            else:
                current = token
                fields[current] = []
        out[type_name] = fields
    return out


def cut(schema, version: str) -> str:
    """The SDL of `schema` cut to the surface (see the module's doc)."""
    wanted = surface()
    kept = {name: schema.get_type(name) for name in wanted if schema.get_type(name) is not None}
    lines = [f"# Shopify Admin GraphQL API {version}, cut to what the simulator serves.",
             f"# Generated by tributary_sandbox/vendors/shopify/schema_gen.py from {NPM_PACKAGE} {NPM_VERSION}: do not edit.", ""]
    needed: set[str] = set()
    bodies: dict[str, str] = {}
    for name, t in kept.items():
        fields = []
        for field, args in wanted[name].items():
            definition = t.fields.get(field)
            if definition is None:
                continue   # not at this version
            needed.add(get_named_type(definition.type).name)
            arg_text = []
            for arg in args:
                arg_def = definition.args.get(arg)
                if arg_def is None:
                    continue
                needed.add(get_named_type(arg_def.type).name)
                default = ""
                if arg_def.default_value is not None and not isinstance(arg_def.default_value, type(...)):
                    value = ast_from_value(arg_def.default_value, arg_def.type)
                    default = f" = {print_ast(value)}" if value is not None else ""
                arg_text.append(f"{arg}: {arg_def.type}{default}")
            fields.append(f"  {field}{'(' + ', '.join(arg_text) + ')' if arg_text else ''}: {definition.type}")
        if isinstance(t, GraphQLInputObjectType):
            kind = "input"
        elif isinstance(t, GraphQLInterfaceType):
            kind = "interface"
        else:
            kind = "type"
        interfaces = [i.name for i in getattr(t, "interfaces", []) if i.name in kept]
        implements = f" implements {' & '.join(interfaces)}" if interfaces else ""
        bodies[name] = f"{kind} {name}{implements} {{\n" + "\n".join(fields) + "\n}"
    missing = sorted(n for n in needed if n not in kept and not isinstance(schema.get_type(n), (
        GraphQLScalarType, GraphQLEnumType, GraphQLUnionType)))
    if missing:
        raise SystemExit(f"{version}: the surface reaches types it does not list: {', '.join(missing)} (add them to SURFACE)")
    extra = []
    for name in sorted(needed - set(kept)):
        t = schema.get_type(name)
        if isinstance(t, GraphQLScalarType) and name not in ("String", "Int", "Float", "Boolean", "ID"):
            extra.append(f"scalar {name}")
        elif isinstance(t, GraphQLEnumType):
            extra.append(f"enum {name} {{\n" + "\n".join(f"  {v}" for v in t.values) + "\n}")
        elif isinstance(t, GraphQLUnionType):
            members = [m.name for m in t.types if m.name in kept]
            extra.append(f"union {name} = {' | '.join(members)}")
    for root in ROOTS:
        if root not in bodies:
            raise SystemExit(f"{version}: no {root}")
    text = "\n\n".join(extra + [bodies[n] for n in kept])
    schema_line = "schema {\n  query: QueryRoot\n  mutation: Mutation\n}"
    return "\n".join(lines) + schema_line + "\n\n" + text + "\n"


def main(argv: list[str] | None = None) -> int:
    from .api import API_VERSIONS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare the files with Shopify's schema, write nothing")
    parser.add_argument("--package-dir", type=Path, help="a folder already holding the npm package's .tgz")
    args = parser.parse_args(argv)
    package, schemas = published_schemas(args.package_dir)
    differing = []
    for version in API_VERSIONS:
        if version not in schemas:
            raise SystemExit(f"{NPM_PACKAGE} {package} has no schema for {version}: supported versions are "
                             f"{', '.join(sorted(schemas))}")
        text = cut(schemas[version], version)
        path = OUT / f"{version}.graphql"
        if args.check:
            if not path.exists() or path.read_text() != text:
                differing.append(path.name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path} from {NPM_PACKAGE} {package}")
    if differing:
        print(f"differs from Shopify's published schema: {', '.join(differing)} (regenerate: python -m "
              "tributary_sandbox.vendors.shopify.schema_gen)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
