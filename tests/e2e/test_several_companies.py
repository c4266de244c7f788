"""Several QuickBooks companies in one warehouse (issue #18), end to end: an accountant's second
company declared the Meltano way, an extractor inheriting from tap-quickbooks
(tap-quickbooks--second, extract/extractors.meltano.yml) with the same Intuit app, its own company
id, refresh token, token store, state and raw schema (raw_quickbooks_second). The sandbox serves it
where Intuit does, by its realm id. The QuickBooks models read both schemas
(TRIBUTARY_QUICKBOOKS_SCHEMAS) and carry each row's company as source_relation.

The two companies number their records from the same ranges (invoice 1 exists in both), so a key
that left out the company would merge them: every figure below is per company and in total."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from incremental import assert_a_full_refresh_changes_nothing, instance_rows

SCALE = 0.1
COMPANIES = {"raw_quickbooks": "/_sandbox/quickbooks", "raw_quickbooks_second": "/instances/second/_sandbox/quickbooks"}
BOTH = {"TRIBUTARY_QUICKBOOKS_SCHEMAS": "raw_quickbooks,raw_quickbooks_second"}
# The first company's job, and what a second company's job runs (README: a job per company, not
# shipped, so `make demo` runs one company): its own extractor, the same models.
JOBS = {"raw_quickbooks": ["quickbooks"],
        "raw_quickbooks_second": ["tap-quickbooks--second", "target-postgres", "dbt:build_quickbooks"]}


def truth(stack, company: str) -> dict:
    return stack.sandbox("GET", f"{COMPANIES[company]}/truth")


def books(stack, company: str) -> dict:
    """What the marts say of one company: invoices, their total and open balance, A/R, P&L."""
    count, total, open_balance = stack.sql(
        "select count(*), sum(total_amount), sum(balance) from marts.quickbooks__invoices where source_relation = %s",
        (company,))[0]
    aging = stack.scalar("select sum(total_open_balance) from marts.quickbooks__ar_aging where source_relation = %s",
                         (company,))
    income = {month: amount for month, amount in stack.sql(
        "select to_char(report_month, 'YYYY-MM'), amount from marts.quickbooks__profit_and_loss_report "
        "where source_relation = %s and row_label = 'Net Income'", (company,))}
    # the finance layer's, from the company's own transactions: the same net income, month by month
    ledger = {month: amount for month, amount in stack.sql(
        "select to_char(period_month, 'YYYY-MM'), sum(net_income_effect) from marts.quickbooks__profit_and_loss "
        "where source_relation = %s group by 1", (company,))}
    assets = {month: amount for month, amount in stack.sql(
        "select to_char(period_month, 'YYYY-MM'), sum(amount) from marts.quickbooks__balance_sheet "
        "where source_relation = %s and section = 'Assets' group by 1", (company,))}
    # each company's fiscal year closes in its own month (the second's starts in April): the equity it leaves
    equity: dict[str, dict] = {}
    for month, row_type, amount in stack.sql(
            "select to_char(period_month, 'YYYY-MM'), row_type, amount from marts.quickbooks__balance_sheet "
            "where source_relation = %s and row_type in ('retained_earnings', 'net_income')", (company,)):
        equity.setdefault(month, {})[row_type] = amount
    return {"invoices": count, "invoices_total": total, "open_ar": open_balance, "aging": aging, "net_income": income,
            "ledger_net_income": ledger, "total_assets": assets, "equity": equity}


def expected_books(stack, company: str) -> dict:
    t = truth(stack, company)
    net_income = {month: Decimal(str(m["net_income"])) for month, m in t["pl_by_month"].items()
                  if Decimal(str(m["net_income"]))}
    balance_sheets = stack.sandbox("GET", f"{COMPANIES[company]}/truth/balance-sheet")
    return {"invoices": t["counts"]["Invoice"], "invoices_total": Decimal(str(t["invoices_total"])),
            "open_ar": Decimal(str(t["open_ar"])), "aging": Decimal(str(t["open_ar"])),
            "net_income": net_income, "ledger_net_income": net_income,
            "total_assets": {month: Decimal(sheet["total_assets"]) for month, sheet in balance_sheets.items()},
            "equity": {month: {"retained_earnings": Decimal(sheet["retained_earnings"]),
                               "net_income": Decimal(sheet["net_income"])} for month, sheet in balance_sheets.items()}}


def company_rows(stack, company: str) -> dict[str, tuple]:
    """A digest of one company's rows in its marts and line tables."""
    tables = ("marts.quickbooks__invoices", "marts.quickbooks__ar_aging", "marts.quickbooks__profit_and_loss_report",
              "staging.stg_quickbooks__invoice_lines", "staging.stg_quickbooks__payment_lines",
              "marts.quickbooks__general_ledger", "marts.quickbooks__balance_sheet")
    return instance_rows(stack, tables, company)


def run(stack, job: list[str], **env: str):
    result = stack.meltano("run", *job, env={**BOTH, **env})
    assert result.ok, result.output[-4000:]
    return result


def without_zero_months(found: dict) -> dict:
    # (and a month the warehouse's UTC today has begun but the company's not: nothing posted yet)
    months = {m for m, v in found["total_assets"].items() if m != f"{dt.datetime.now(dt.timezone.utc):%Y-%m}" or v}
    return {**found, "net_income": {m: v for m, v in found["net_income"].items() if v},
            "ledger_net_income": {m: v for m, v in found["ledger_net_income"].items() if v},
            "total_assets": {m: v for m, v in found["total_assets"].items() if m in months},
            "equity": {m: v for m, v in found["equity"].items() if m in months}}


@pytest.fixture(scope="module")
def two_companies(stack):
    stack.reset(scale=SCALE)
    for job in JOBS.values():
        run(stack, job)
    yield
    stack.reset()  # the next module starts from the stack's own world


def test_each_company_loads_into_its_own_schema_and_state(stack, two_companies):
    for company in COMPANIES:
        loaded = {row_id for (row_id,) in stack.sql(f'select "Id" from {company}.invoices')}
        assert len(loaded) == truth(stack, company)["counts"]["Invoice"], company
    first = {i: t for i, t in stack.sql('select "Id", "TotalAmt" from raw_quickbooks.invoices')}
    second = {i: t for i, t in stack.sql('select "Id", "TotalAmt" from raw_quickbooks_second.invoices')}
    assert set(first) & set(second), "the companies should share id ranges (that is what keys are tested on)"
    assert first != second, "two businesses, not one loaded twice"
    assert stack.state("dev:tap-quickbooks--second-to-target-postgres"), "the second company keeps its own state"
    # each company's settings, its fiscal year among them (the second's starts in April)
    assert dict(stack.sql("select source_relation, fiscal_year_start_month from staging.stg_quickbooks__preferences")) \
        == {"raw_quickbooks": 1, "raw_quickbooks_second": 4}


def test_the_marts_hold_each_company_alone_and_the_group_together(stack, two_companies):
    for company in COMPANIES:
        assert without_zero_months(books(stack, company)) == expected_books(stack, company), company
    count, total = stack.sql("select count(*), sum(total_amount) from marts.quickbooks__invoices")[0]
    assert count == sum(expected_books(stack, c)["invoices"] for c in COMPANIES)
    assert total == sum(expected_books(stack, c)["invoices_total"] for c in COMPANIES)


def test_a_change_in_one_company_touches_no_other(stack, two_companies):
    second_before = company_rows(stack, "raw_quickbooks_second")
    changes = stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 5, "new": 3, "updated": 3, "deleted": 2})
    assert {c["kind"] for c in changes["changes"]} >= {"new", "updated", "deleted"}
    run(stack, JOBS["raw_quickbooks"])
    assert without_zero_months(books(stack, "raw_quickbooks")) == expected_books(stack, "raw_quickbooks")
    assert company_rows(stack, "raw_quickbooks_second") == second_before
    # The incremental line tables hold what a rebuild of both companies from all history gives.
    assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12, env=BOTH)


def test_a_revoked_connection_fails_only_its_own_company(stack, two_companies):
    stack.sandbox("POST", "/instances/second/_sandbox/quickbooks/revoke")
    result = stack.meltano("run", *JOBS["raw_quickbooks_second"], env=BOTH)
    assert not result.ok
    assert "QuickBooks refused the refresh token (invalid_grant)" in result.output, result.output[-3000:]
    stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 6, "new": 1})
    run(stack, JOBS["raw_quickbooks"])
    assert without_zero_months(books(stack, "raw_quickbooks")) == expected_books(stack, "raw_quickbooks")


def test_an_extractor_that_fell_back_to_the_first_company_is_refused(stack, two_companies):
    """Forgetting the second company's id (an inherited extractor then takes tap-quickbooks's) would
    load the first company again into the second one's schema: the wrapper refuses, naming the fix."""
    result = stack.meltano("run", "tap-quickbooks--second", "target-postgres",
                           env={**BOTH, "TAP_QUICKBOOKS__SECOND_REALM_ID": "9130350000000001",
                                "TAP_QUICKBOOKS__SECOND_REFRESH_TOKEN": "sandbox-refresh-token-0"})
    assert not result.ok
    assert "which tap-quickbooks already loads" in result.output, result.output[-3000:]
    assert "TAP_QUICKBOOKS__SECOND_REALM_ID" in result.output

