"""Two whole businesses in one warehouse (issue #18), end to end: each with its QuickBooks company,
Attio workspace, GA4 property and shop (the second through tap-<source>--second, the sandbox's
/instances/second/), every source's models reading both, then the cross-source job. Identity,
customer_360 and the reconciliations work within each business: a customer is matched only to
records of its own business, and a day's shop sales are compared with that business's books
(macros/instances.sql). The cross-source job's own tests (no day whose sales and books differ,
customer_360 equal to the source marts) run in the build.

The two businesses number their records from the same ranges (Shopify customer 1 and QuickBooks
customer 1 exist in both), so a key that left out the instance would merge them."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal

import pytest
from tributary_sandbox.scoring import score_unification

from this_worker import BIN, PROJECT_ROOT

SCALE = 0.05
SOURCES = ("quickbooks", "attio", "ga4", "shopify")
# business -> where the sandbox serves its truth, and its instance schemas
BUSINESSES = {"main": "", "second": "/instances/second"}
START = (dt.date.today() - dt.timedelta(days=60)).isoformat()  # GA4: two months, as test_several_properties
BOTH = {**{f"TRIBUTARY_{source.upper()}_SCHEMAS": f"raw_{source},raw_{source}_second" for source in SOURCES},
        "TAP_GA4_START_DATE": START, "TAP_GA4__SECOND_START_DATE": START}
THRESHOLD = 0.99


def run(stack, *job: str, **env: str):
    result = stack.meltano("run", *job, env={**BOTH, **env}, timeout=900)
    assert result.ok, result.output[-4000:]
    return result


@pytest.fixture(scope="module")
def two_businesses(stack):
    stack.reset(scale=SCALE)
    # Eight extract-loads, then one build of every model (the source jobs' own builds are the
    # several_<source> modules' subject): one Meltano run, one dbt parse.
    loads = [block for source in SOURCES for extractor in (f"tap-{source}", f"tap-{source}--second")
             for block in (extractor, "target-postgres")]
    run(stack, *loads, "dbt:build")
    yield
    stack.reset()


def unification(stack, business: str) -> dict:
    truth = stack.sandbox("GET", f"{BUSINESSES[business]}/_sandbox/truth")["customers"]
    predicted = {(s, o, i): uid for s, o, i, uid in stack.sql(
        "select source_system, source_object, source_id, unified_customer_id "
        "from intermediate.int_identity__customer_map where business = %s", (business,))}
    return score_unification(truth, predicted)


def test_each_business_unifies_its_own_customers_and_no_customer_spans_two(stack, two_businesses):
    for business in BUSINESSES:
        score = unification(stack, business)
        assert score["records"] > 50 and score["true_pairs"] > 10, (business, score)
        assert score["precision"] >= THRESHOLD and score["recall"] >= THRESHOLD, (business, score)
    assert not stack.sql("select unified_customer_id from intermediate.int_identity__customer_map "
                         "group by 1 having count(distinct business) > 1")
    # every source record of both businesses has its customer: one map row per record
    for source, objects in (("quickbooks", ["customers"]), ("shopify", ["customers"]), ("attio", ["people", "companies"])):
        for schema in (f"raw_{source}", f"raw_{source}_second"):
            loaded = sum(stack.scalar(f"select count(*) from {schema}.{table}") for table in objects)
            mapped = stack.scalar("select count(*) from intermediate.int_identity__customer_map "
                                  "where source_relation = %s", (schema,))
            assert mapped == loaded, (schema, mapped, loaded)
    # the second business's keys name their instance; the first's are as a one-business warehouse has them
    keys = dict(stack.sql("select business, min(contact_key) from intermediate.int_identity__contacts "
                          "where source_system = 'shopify' group by 1"))
    assert keys["main"].startswith("shopify:customer:") and keys["second"].startswith("raw_shopify_second/shopify:customer:")


def test_customer_360_of_each_business_holds_its_own_orders_and_invoices(stack, two_businesses):
    for business, schema_suffix in (("main", ""), ("second", "_second")):
        orders, revenue = stack.sql(
            "select count(*), coalesce(sum(net_revenue), 0) from marts.shopify__orders "
            "where is_counted and customer_id is not null and source_relation = %s", (f"raw_shopify{schema_suffix}",))[0]
        invoiced = stack.scalar("select sum(total_amount) from marts.quickbooks__invoices where source_relation = %s",
                                (f"raw_quickbooks{schema_suffix}",))
        in_360 = stack.sql("select sum(shopify_order_count), sum(shopify_lifetime_revenue), sum(quickbooks_invoiced_amount) "
                           "from marts.customer_360 where business = %s", (business,))[0]
        assert in_360 == (orders, revenue, invoiced), (business, in_360)
        assert orders > 0 and invoiced > 0


def test_each_business_shop_is_reconciled_with_its_own_books_and_properties(stack, two_businesses):
    for business, schema_suffix in (("main", ""), ("second", "_second")):
        days, mismatched, shop_sales = stack.sql(
            "select count(*), count(*) filter (where is_sales_mismatch), sum(shopify_sales) "
            "from marts.reconciliation__shopify_vs_quickbooks where business = %s", (business,))[0]
        assert days > 20 and mismatched == 0, (business, days, mismatched)
        expected = stack.scalar("select sum(total_price) from marts.shopify__orders "
                                "where not is_test and not is_cancelled and source_relation = %s",
                                (f"raw_shopify{schema_suffix}",))
        assert shop_sales == expected
        ga4 = stack.scalar("select sum(ga4_revenue) from marts.revenue_by_channel where business = %s", (business,))
        assert ga4 == stack.scalar("select sum(total_revenue) from marts.ga4__traffic_daily where source_relation = %s",
                                   (f"raw_ga4{schema_suffix}",)), business
        assert ga4 > Decimal(0)


def test_the_demos_summary_gives_each_business_its_customers(stack, two_businesses):
    """`make demo-businesses` ends with the summary: the cross-source figures per business."""
    summary = subprocess.run([str(BIN / "python"), "orchestrate/warehouse_summary.py"], cwd=PROJECT_ROOT,
                             env={**stack.env, **BOTH}, capture_output=True, text=True, timeout=120)
    assert summary.returncode == 0, summary.stderr
    for business in BUSINESSES:
        customers = stack.scalar("select count(*) from marts.customer_360 where business = %s", (business,))
        assert re.search(rf"^  Customers unified +{business} +{customers:,}$", summary.stdout, re.M), summary.stdout
        differing = stack.scalar("select count(*) filter (where is_sales_mismatch or is_refunds_mismatch) "
                                 "from marts.reconciliation__shopify_vs_quickbooks where business = %s", (business,))
        assert re.search(rf"^  Days Shopify ≠ QuickBooks +{business} +{differing}$", summary.stdout, re.M), summary.stdout
    # the finance layer's check, per company: its latest month balances, and its net income on both bases
    for company in ("raw_quickbooks", "raw_quickbooks_second"):
        month, assets = stack.sql("select period_month, sum(amount) filter (where section = 'Assets') "
                                  "from marts.quickbooks__balance_sheet where source_relation = %s "
                                  "group by 1 order by 1 desc limit 1", (company,))[0]
        assert re.search(rf"^  {company}: balance sheet, .*: assets {assets:,.2f} = liabilities \+ equity "
                         rf"{assets:,.2f} \(balances\)$", summary.stdout, re.M), summary.stdout
        accrual, cash_basis = (stack.scalar(f"select coalesce(sum(net_income_effect), 0) from marts.{model} "
                                            "where source_relation = %s and period_month = %s", (company, month))
                               for model in ("quickbooks__profit_and_loss", "quickbooks__profit_and_loss_cash_basis"))
        assert f"  {company}: net income in {month:%B %Y}: {accrual:+,.2f} as earned (accrual), " \
               f"{cash_basis:+,.2f} as paid (cash basis)\n" in summary.stdout, summary.stdout


def test_a_hostile_or_nameless_business_is_refused_before_any_sql_runs(stack, two_businesses):
    """A mapping that is not `<schema>:<business>` is refused; so is a shop whose schema names no
    business (raw_othershop), which would otherwise join the first business unseen."""
    hostile = "raw_shopify_second:x'; drop schema marts cascade; --"
    result = stack.meltano("invoke", "dbt:build_cross_source", env={**BOTH, "TRIBUTARY_BUSINESS_OF": hostile})
    assert not result.ok
    assert "is not <an instance schema>:<a business name>" in result.output, result.output[-3000:]
    nameless = {**BOTH, "TRIBUTARY_SHOPIFY_SCHEMAS": "raw_shopify,raw_shopify_second,raw_othershop"}
    result = stack.meltano("invoke", "dbt:build_cross_source", env=nameless)
    assert not result.ok
    assert ("raw_othershop (TRIBUTARY_SHOPIFY_SCHEMAS) names no business: call it raw_shopify_<business>, "
            "or say whose it is in TRIBUTARY_BUSINESS_OF (raw_othershop:<business>)") in result.output, result.output[-3000:]
    assert stack.scalar("select count(*) from marts.customer_360") > 0


def test_two_shops_said_to_be_one_business_are_matched_across_both(stack, two_businesses):
    """TRIBUTARY_BUSINESS_OF: the second shop belongs to the first business (a merchant's second
    storefront). Its customers are matched with the first business's records and counted in its
    customer_360, keyed by their instance, and the first business's days compare both shops'
    sales with its books. (Last in the module: the fixture's reset puts the world back.)"""
    one = {"TRIBUTARY_BUSINESS_OF": "raw_shopify_second:main"}
    built = run(stack, "cross-source", **one)
    # The sandbox's books take the first shop's sales only: the first business's days now differ,
    # which its reconciliation test reports (a warning, as a real difference would be).
    output = re.sub(r"\x1b\[[0-9;]*m", "", built.output)
    assert re.search(r"WARN \d+ accepted_values_reconciliation__shopify_vs_quickbooks_is_sales_mismatch__False", output)
    second_shop = stack.sql("select distinct business from intermediate.int_identity__customer_map "
                            "where source_relation = 'raw_shopify_second'")
    assert second_shop == [("main",)]
    orders = stack.scalar("select count(*) from marts.shopify__orders where is_counted and customer_id is not null "
                          "and source_relation in ('raw_shopify', 'raw_shopify_second')")
    assert stack.scalar("select sum(shopify_order_count) from marts.customer_360 where business = 'main'") == orders
    assert stack.scalar("select count(*) from marts.customer_360 where business = 'second' "
                        "and shopify_order_count > 0") == 0
