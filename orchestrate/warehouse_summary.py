"""Print what the warehouse holds: rows per raw table, the marts built, how to connect.

`make demo` ends with this, then the sandbox's own identity score (`python -m tributary_sandbox
score`). It connects as the read-only analyst role (load/roles.py) to the server WAREHOUSE_HOST,
WAREHOUSE_PORT and WAREHOUSE_DB name (defaults: the local dev warehouse).
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import psycopg
from psycopg import sql

HOST = os.environ.get("WAREHOUSE_HOST", "127.0.0.1")
PORT = int(os.environ.get("WAREHOUSE_PORT", "55432"))
# read-only: the analyst role (load/roles.py), the one to explore the warehouse with
USER = "tributary_analyst"
PASSWORD = os.environ.get("WAREHOUSE_ANALYST_PASSWORD", "tributary-analyst-dev")
DATABASE = os.environ.get("WAREHOUSE_DB", "warehouse")


def table_counts(conn: psycopg.Connection, schema_pattern: str) -> list[tuple[str, str, int]]:
    tables = conn.execute(
        """select table_schema, table_name from information_schema.tables
           where table_schema like %s and table_type in ('BASE TABLE', 'VIEW')
           order by 1, 2""",
        (schema_pattern,),
    ).fetchall()
    return [
        # table names come from vendors' data: quoted by psycopg, never pasted into the text
        (schema, table, conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))).fetchone()[0])
        for schema, table in tables
    ]


def print_counts(title: str, counts: list[tuple[str, str, int]]) -> None:
    print(f"\n{title}")
    if not counts:
        print("  (none)")
    for schema, table, rows in counts:
        print(f"  {schema}.{table:<40} {rows:>9,} rows")


def headline_figures(conn: psycopg.Connection) -> None:
    figures = {
        "Open accounts receivable": "select sum(total_open_balance) from marts.quickbooks__ar_aging",
        "Invoices overdue": "select count(*) from marts.quickbooks__invoices where days_overdue > 0",
        "Revenue, last 12 months": (
            "select sum(net_revenue) from marts.quickbooks__revenue_by_month "
            "where revenue_month >= date_trunc('month', current_date) - interval '12 months'"
        ),
        "Open pipeline (Attio)": "select sum(deal_value) from marts.attio__deal_pipeline where is_open",
        "Deals won (Attio)": "select count(*) from marts.attio__deal_pipeline where is_won",
        "Shop net revenue (Shopify)": "select sum(net_revenue) from marts.shopify__orders",
        "Sessions, last 30 days (GA4)": (
            "select sum(sessions)::bigint from marts.ga4__traffic_daily where report_date >= current_date - 30"
        ),
        "Customers unified": (
            "select count(*) || ' (' || count(*) filter (where customer_kind = 'company') || ' companies) from '"
            " || (select count(*) from intermediate.int_identity__customer_map) || ' source records'"
            " from marts.customer_360"
        ),
        "Days Shopify ≠ QuickBooks": (
            "select count(*) filter (where is_sales_mismatch or is_refunds_mismatch) || ' of ' || count(*)"
            " from marts.reconciliation__shopify_vs_quickbooks"
        ),
        "Won deals not invoiced": (
            "select count(*) from marts.reconciliation__deals_vs_invoices where is_won_deal_not_invoiced"
        ),
    }
    print("\nHeadline figures")
    for label, query in figures.items():
        try:
            value = conn.execute(query).fetchone()[0]
        except psycopg.Error:
            conn.rollback()
            value = "n/a (mart not built)"
        if isinstance(value, (int, float)) or hasattr(value, "quantize"):
            value = f"{value:,.2f}" if not isinstance(value, int) else f"{value:,}"
        print(f"  {label:<28} {value}")


# Per business (README, "Several businesses in one warehouse"): a source's figures per instance
# (its raw schema), the cross-source ones per business; printed when there is more than one.
PER_BUSINESS = {
    "Open accounts receivable": "select source_relation, sum(total_open_balance) from marts.quickbooks__ar_aging group by 1",
    "Open pipeline (Attio)": "select source_relation, sum(deal_value) from marts.attio__deal_pipeline where is_open group by 1",
    "Shop net revenue (Shopify)": "select source_relation, sum(net_revenue) from marts.shopify__orders group by 1",
    "Sessions, last 30 days (GA4)": (
        "select source_relation, sum(sessions)::bigint from marts.ga4__traffic_daily"
        " where report_date >= current_date - 30 group by 1"
    ),
    "Customers unified": "select business, count(*) from marts.customer_360 group by 1",
    "Days Shopify ≠ QuickBooks": (
        "select business, count(*) filter (where is_sales_mismatch or is_refunds_mismatch)"
        " from marts.reconciliation__shopify_vs_quickbooks group by 1"
    ),
}


def per_business(conn: psycopg.Connection) -> None:
    figures = {}
    for label, query in PER_BUSINESS.items():
        try:
            figures[label] = sorted(conn.execute(query).fetchall())
        except psycopg.Error:
            conn.rollback()
    if not any(len(rows) > 1 for rows in figures.values()):
        return
    print("\nPer business (a source's instance, or for the cross-source figures the business)")
    for label, rows in figures.items():
        for business, value in rows:
            shown = f"{value:,}" if isinstance(value, int) else f"{value or 0:,.2f}"
            print(f"  {label:<28} {business:<22} {shown:>14}")


def revenue_by_channel(conn: psycopg.Connection) -> None:
    try:
        rows = conn.execute(
            "select channel, sum(shopify_revenue_attributed) from marts.revenue_by_channel"
            " where report_date >= current_date - 30 group by 1 order by 2 desc nulls last limit 6").fetchall()
    except psycopg.Error:
        conn.rollback()
        return
    print("\nShop revenue by channel, last 30 days (GA4 → Shopify)")
    for channel, revenue in rows:
        print(f"  {channel:<28} {revenue or 0:>14,.2f}")


def finance(conn: psycopg.Connection) -> None:
    """The finance layer's own check, for each company's latest month: the balance sheet balances
    (assets = liabilities + equity), the month's cash movement, by activity, and its net income as
    earned (accrual) and as paid (cash basis)."""
    try:
        balance_rows = conn.execute(
            "select source_relation, period_month, max(as_of_date),"
            " sum(amount) filter (where section = 'Assets'),"
            " sum(amount) filter (where section in ('Liabilities', 'Equity'))"
            " from marts.quickbooks__balance_sheet"
            " where (source_relation, period_month) in"
            "  (select source_relation, max(period_month) from marts.quickbooks__balance_sheet group by 1)"
            " group by 1, 2 order by 1").fetchall()
        cash_rows = conn.execute(
            "select source_relation, max(month_cash_at_start), max(month_cash_at_end),"
            " coalesce(sum(amount) filter (where activity = 'operating'), 0),"
            " coalesce(sum(amount) filter (where activity = 'investing'), 0),"
            " coalesce(sum(amount) filter (where activity = 'financing'), 0)"
            " from marts.quickbooks__cash_flow"
            " where (source_relation, period_month) in"
            "  (select source_relation, max(period_month) from marts.quickbooks__cash_flow group by 1)"
            " group by 1 order by 1").fetchall()
        net_income_rows = conn.execute(
            "select source_relation, period_month,"
            " coalesce(sum(net_income_effect) filter (where basis = 'accrual'), 0),"
            " coalesce(sum(net_income_effect) filter (where basis = 'cash'), 0)"
            " from (select source_relation, period_month, net_income_effect, 'accrual' as basis"
            "       from marts.quickbooks__profit_and_loss"
            "       union all"
            "       select source_relation, period_month, net_income_effect, 'cash'"
            "       from marts.quickbooks__profit_and_loss_cash_basis) as both_bases"
            " group by 1, 2").fetchall()
    except psycopg.Error:
        conn.rollback()
        return
    cash = {row[0]: row[1:] for row in cash_rows}
    net_income = {(company, month): (accrual, cash_basis) for company, month, accrual, cash_basis in net_income_rows}
    print("\nFinance (QuickBooks ledger), the latest month")
    for company, month, as_of, assets, liabilities_and_equity in balance_rows:
        assets, liabilities_and_equity = assets or 0, liabilities_and_equity or 0
        check = "balances" if assets == liabilities_and_equity else f"OFF BY {assets - liabilities_and_equity:,.2f}"
        when = f"{month:%B %Y} so far" if as_of > dt.date.today() else f"as of {as_of}"
        print(f"  {company}: balance sheet, {when}: assets {assets:,.2f} = liabilities + equity "
              f"{liabilities_and_equity:,.2f} ({check})")
        if company in cash:
            start, end, operating, investing, financing = cash[company]
            print(f"  {company}: cash in {month:%B %Y}: {start:,.2f} -> {end:,.2f} ({end - start:+,.2f}: "
                  f"operating {operating:+,.2f}, investing {investing:+,.2f}, financing {financing:+,.2f})")
        accrual, cash_basis = net_income.get((company, month), (0, 0))
        print(f"  {company}: net income in {month:%B %Y}: {accrual:+,.2f} as earned (accrual), "
              f"{cash_basis:+,.2f} as paid (cash basis)")


def main() -> int:
    try:
        conn = psycopg.connect(
            host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DATABASE, connect_timeout=5
        )
    except psycopg.OperationalError as error:
        print(f"Cannot connect to the warehouse at {HOST}:{PORT}: {error}".strip(), file=sys.stderr)
        print("Start it with `make warehouse-start`.", file=sys.stderr)
        return 1
    with conn:
        print_counts("Loaded (raw schemas)", table_counts(conn, "raw\\_%"))
        print_counts("Marts built", table_counts(conn, "marts"))
        headline_figures(conn)
        per_business(conn)
        finance(conn)
        revenue_by_channel(conn)
    # The local dev password is no secret; any other is never printed.
    password = PASSWORD if PASSWORD == "tributary-analyst-dev" else "$WAREHOUSE_ANALYST_PASSWORD"
    print(
        f"\nExplore: PGPASSWORD={password} psql -h {HOST} -p {PORT} -U {USER} {DATABASE}"
        "\nThe warehouse and the sandbox keep running; `make stop` stops both."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
