{{ config(severity='warn') }}
{#
    Total assets, total equity and net income, ledger against QuickBooks' BalanceSheet report, for
    every month the report was loaded as of the same day. A warning, not an error: they carry the
    inventory's value, which the ledger keeps at each item's purchase cost and QuickBooks FIFO
    (assert_quickbooks__inventory_cost_matches_the_report says the same of the P&L).
#}
with report as (
    select * from {{ ref('stg_quickbooks__balance_sheet') }}
),

ledger as (
    select * from {{ ref('quickbooks__balance_sheet') }}
),

reported as (
    select
        source_relation,
        report_month,
        max(as_of_date) as as_of_date,
        coalesce(sum(amount) filter (where row_label = 'TOTAL ASSETS'), 0) as total_assets,
        coalesce(sum(amount) filter (where row_label = 'Total Equity'), 0) as total_equity,
        coalesce(sum(amount) filter (where row_label = 'Net Income'), 0) as net_income
    from report
    group by 1, 2
),

derived as (
    select
        source_relation,
        period_month as report_month,
        max(as_of_date) as as_of_date,
        coalesce(sum(amount) filter (where section = 'Assets'), 0) as total_assets,
        coalesce(sum(amount) filter (where section = 'Equity'), 0) as total_equity,
        coalesce(sum(amount) filter (where row_type = 'net_income'), 0) as net_income
    from ledger
    group by 1, 2
)

select
    reported.source_relation,
    reported.report_month,
    reported.total_assets as reported_total_assets, derived.total_assets as ledger_total_assets,
    reported.total_equity as reported_total_equity, derived.total_equity as ledger_total_equity,
    reported.net_income as reported_net_income, derived.net_income as ledger_net_income
from reported
inner join derived
    on reported.source_relation = derived.source_relation
    and reported.report_month = derived.report_month
    and reported.as_of_date = derived.as_of_date
where reported.total_assets <> derived.total_assets
    or reported.total_equity <> derived.total_equity
    or reported.net_income <> derived.net_income
