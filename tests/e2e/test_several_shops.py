"""Several shops in one warehouse (issue #18), end to end: a second shop declared the Meltano way,
an extractor inheriting from tap-shopify (tap-shopify--second, extract/extractors.meltano.yml),
with its own token, state and raw schema (raw_shopify_second); the sandbox serves it as a business
of its own under /instances/second/. The shop models read both schemas (TRIBUTARY_SHOPIFY_SCHEMAS)
and carry each row's shop as source_relation (transform/macros/instances.sql).

The sandbox's two shops number their records from the same ranges (order 1001 exists in both), so
a key that left out the shop would merge them: every figure below is per shop and in total."""

from __future__ import annotations

import re
import subprocess
import time
from decimal import Decimal

import psycopg
import pytest

from incremental import assert_a_full_refresh_changes_nothing, instance_rows
from ops import OUTPUT, command
from this_worker import BIN, PROJECT_ROOT, WAREHOUSE

SCALE = 0.1  # a few hundred orders per shop
SHOPS = {"raw_shopify": "/_sandbox/shopify", "raw_shopify_second": "/instances/second/_sandbox/shopify"}
BOTH = {"TRIBUTARY_SHOPIFY_SCHEMAS": "raw_shopify,raw_shopify_second"}
# The first shop's job, and what a second shop's job runs (README: a job per shop, not shipped, so
# `make demo` runs one shop): its own extractor, the same models.
JOBS = {"raw_shopify": ["shopify"], "raw_shopify_second": ["tap-shopify--second", "target-postgres", "dbt:build_shopify"]}


def truth(stack, shop: str) -> dict[str, dict]:
    return {gid: {"total": Decimal(o["total"]), "refunded": Decimal(o["refunded"])}
            for gid, o in stack.sandbox("GET", f"{SHOPS[shop]}/truth").items()}


def mart_orders(stack, shop: str) -> dict[str, dict]:
    return {gid: {"total": total, "refunded": refunded} for gid, total, refunded in stack.sql(
        "select order_gid, total_price, refunds from marts.shopify__orders where source_relation = %s", (shop,))}


def shop_rows(stack, shop: str) -> dict[str, tuple]:
    """A digest of one shop's rows in each of its marts and order-element tables."""
    tables = ("marts.shopify__orders", "marts.shopify__customers", "marts.shopify__products",
              "staging.stg_shopify__order_lines", "staging.stg_shopify__refunds")
    return instance_rows(stack, tables, shop)


def run(stack, job: list[str], **env: str):
    result = stack.meltano("run", *job, env={**BOTH, **env})
    assert result.ok, result.output[-4000:]
    return result


@pytest.fixture(scope="module")
def two_shops(stack):
    stack.reset(scale=SCALE)
    for job in JOBS.values():
        run(stack, job)
    yield
    stack.reset()  # the next module starts from the stack's own world, one shop loaded by nobody


def test_each_shop_loads_into_its_own_schema_and_state(stack, two_shops):
    for shop in SHOPS:
        loaded = {gid for (gid,) in stack.sql(f"select id from {shop}.orders")}
        assert loaded == set(truth(stack, shop)), shop
    # Two businesses, not one loaded twice: the same order numbers, other orders.
    first, second = truth(stack, "raw_shopify"), truth(stack, "raw_shopify_second")
    assert set(first) & set(second), "the sandbox's shops should share id ranges (that is what keys are tested on)"
    assert first != second
    assert stack.state("dev:tap-shopify--second-to-target-postgres"), "the second shop keeps its own state"


def test_the_marts_hold_each_shop_alone_and_the_group_together(stack, two_shops):
    for shop in SHOPS:
        assert mart_orders(stack, shop) == truth(stack, shop), shop
    expected_total = sum(o["total"] for shop in SHOPS for o in truth(stack, shop).values())
    count, total = stack.sql("select count(*), sum(total_price) from marts.shopify__orders")[0]
    assert (count, total) == (sum(len(truth(stack, shop)) for shop in SHOPS), expected_total)
    # Each shop's customers are its own: lifetime value per shop adds up to that shop's orders.
    for shop in SHOPS:
        assert stack.scalar("select sum(lifetime_value) from marts.shopify__customers where source_relation = %s",
                            (shop,)) == stack.scalar(
            "select sum(net_revenue) from marts.shopify__orders where source_relation = %s "
            "and is_counted and customer_id is not null", (shop,))


def test_a_change_in_one_shop_touches_no_other(stack, two_shops):
    second_before = shop_rows(stack, "raw_shopify_second")
    stack.sandbox("POST", "/_sandbox/shopify/mutate", {"orders_updated": 2, "orders_created": 1, "refunds": 1,
                                                       "orders_deleted": 1})
    run(stack, JOBS["raw_shopify"])
    assert mart_orders(stack, "raw_shopify") == truth(stack, "raw_shopify")
    assert shop_rows(stack, "raw_shopify_second") == second_before
    # The incremental tables hold what a rebuild of both shops from all history gives.
    assert_a_full_refresh_changes_nothing(stack, "shopify", 7, env=BOTH)


def test_a_revoked_token_fails_only_its_own_shop(stack, two_shops):
    # The first shop's token: valid, but not for this shop (each shop checks its own).
    result = stack.meltano("run", *JOBS["raw_shopify_second"],
                           env={**BOTH, "TAP_SHOPIFY__SECOND_ACCESS_TOKEN": "shpat_tributary_sandbox_token"})
    assert not result.ok
    assert "401" in result.output or "Invalid API key or access token" in result.output, result.output[-3000:]
    stack.sandbox("POST", "/_sandbox/shopify/mutate", {"orders_created": 1})
    run(stack, JOBS["raw_shopify"])
    assert mart_orders(stack, "raw_shopify") == truth(stack, "raw_shopify")


def test_a_shop_not_loaded_yet_adds_nothing_and_is_named(stack, two_shops):
    result = stack.meltano("invoke", "dbt:run", "--select", "stg_shopify__orders", "shopify__orders",
                           env={"TRIBUTARY_SHOPIFY_SCHEMAS": "raw_shopify,raw_shopify_second,raw_shopify_third"})
    assert result.ok, result.output[-4000:]
    assert "raw_shopify_third.orders does not exist yet" in result.output
    for shop in SHOPS:
        assert mart_orders(stack, shop) == truth(stack, shop), shop


def test_a_column_typed_differently_in_two_shops_stops_the_build_naming_both(stack, two_shops):
    # The same loader made both tables: a column typed otherwise in one shop is drift to look at.
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
        conn.execute('alter table raw_shopify.locations add column "legacyDriftField" boolean')
        conn.execute('alter table raw_shopify_second.locations add column "legacyDriftField" text')
    try:
        result = stack.meltano("invoke", "dbt:build_shopify", "--select", "stg_shopify__locations", env=BOTH)
        assert not result.ok
        assert ("column legacyDriftField of locations is boolean in raw_shopify but text in raw_shopify_second"
                in result.output), result.output[-3000:]
    finally:
        with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
            for shop in SHOPS:
                conn.execute(f'alter table {shop}.locations drop column "legacyDriftField"')


@pytest.mark.slow  # a data-quality report with a round per shop: 90 s (test budget; make test-slow)
def test_data_quality_checks_every_shop_and_names_the_one_behind(stack, two_shops):
    """`make data-quality` reads each shop, not only the first: the second shop's loads stopped a
    day and a half ago and one of its raw rows lost its id; the report names that shop, the table
    and the test with the shop's schema, and the first shop stays fresh and passing."""
    old_id = stack.scalar("select id from raw_shopify_second.customers order by id limit 1")
    stack.sql("""update raw_shopify_second.orders set _sdc_received_at = _sdc_received_at - interval '36 hours'
                 returning 1""")
    stack.sql('update raw_shopify_second.customers set "legacyResourceId" = null where id = %s returning 1', (old_id,))
    try:
        result = command(stack, "data_quality.py", **BOTH)
        report = (OUTPUT / "data-quality" / "latest.md").read_text()
        assert result.returncode == 1, report
        assert "| shopify | pass |" in report, report
        assert "| shopify (raw_shopify_second) | error |" in report, report
        assert "stale sources: " in report and "shopify (raw_shopify_second)" in report.split("\n\n")[1]
        behind = report.split("Tables behind:")[1].split("\n\n")[1]
        assert "| shopify (raw_shopify_second) | orders | error |" in behind
        assert not re.search(r"^\| shopify \|", behind, re.M), behind
        failing = report.split("## Failing tests")[1].split("## Reconciliation")[0]
        assert 'source_not_null_shopify_customers__legacyResourceId_ (raw_shopify_second)' in failing, failing
        assert "`source_not_null_shopify_customers__legacyResourceId_` —" not in failing  # the first shop's passes
    finally:
        stack.sql("""update raw_shopify_second.orders set _sdc_received_at = _sdc_received_at + interval '36 hours'
                     returning 1""")
        stack.sql("""update raw_shopify_second.customers set "legacyResourceId" = split_part(id, '/', 5)::bigint
                     where id = %s returning 1""", (old_id,))



def test_two_shops_jobs_building_at_once_take_turns(stack, two_shops):
    """Every shop's job builds the same models: a build waits for another build of the warehouse
    (an advisory lock the dbt wrapper holds, transform/dbt-wrapper), rather than both replacing the
    same tables at once. Held here by the test, as another machine's build would hold it."""
    with psycopg.connect(**WAREHOUSE, autocommit=True) as other_build:
        other_build.execute("select pg_advisory_lock(hashtext('tributary: one dbt build at a time'))")
        build = subprocess.Popen([str(BIN / "meltano"), "invoke", "dbt:run", "--select", "stg_shopify__locations"],
                                 cwd=PROJECT_ROOT,
                                 env={**stack.env, **BOTH}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        waiting = 0
        for _ in range(300):
            waiting = other_build.execute("select count(*) from pg_locks where locktype = 'advisory' "
                                          "and not granted").fetchone()[0]
            if waiting or build.poll() is not None:
                break
            time.sleep(0.2)
        assert waiting == 1 and build.poll() is None, "the build should wait for the lock"
    output = build.communicate(timeout=600)[0]   # the lock went with the connection
    assert build.returncode == 0, output[-3000:]
    assert "another dbt build is running in this warehouse: waiting for it to finish" in output
