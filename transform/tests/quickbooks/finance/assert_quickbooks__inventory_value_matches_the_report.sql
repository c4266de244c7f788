{{ config(severity='warn') }}
{#
    The inventory's value at each month's end, ledger against QuickBooks' BalanceSheet report. A
    warning, not an error: the ledger costs each item at its purchase cost, QuickBooks FIFO (the
    cost of the units bought first), which its API does not expose; they part when an item's cost
    changed while older units were still in stock. In such a month the totals that carry it
    (assets, equity, Retained Earnings, Net Income) wait too; every other figure is held to the
    cent (assert_quickbooks__balance_sheet_matches_the_report), and the P&L's cost of goods sold
    is named the same way (assert_quickbooks__inventory_cost_matches_the_report).
#}
with report as (
    select * from {{ ref('stg_quickbooks__balance_sheet') }}
    where as_of_date = (report_month + interval '1 month - 1 day')::date
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
    where account_sub_type = 'Inventory'
),

reported as (
    select report.source_relation, report.report_month, sum(report.amount) as inventory_value
    from report
    inner join accounts
        on report.source_relation = accounts.source_relation
        and report.row_label = accounts.account_name
    group by 1, 2
),

derived as (
    select ledger.source_relation, ledger.period_month as report_month, sum(ledger.amount) as inventory_value
    from {{ ref('quickbooks__balance_sheet') }} as ledger
    inner join accounts
        on ledger.source_relation = accounts.source_relation
        and ledger.account_id = accounts.account_id
    group by 1, 2
)

select
    coalesce(reported.source_relation, derived.source_relation) as source_relation,
    coalesce(reported.report_month, derived.report_month) as report_month,
    reported.inventory_value as reported_inventory_value,
    derived.inventory_value as ledger_inventory_value
from reported
full outer join derived
    on reported.source_relation = derived.source_relation
    and reported.report_month = derived.report_month
where coalesce(reported.inventory_value, 0) <> coalesce(derived.inventory_value, 0)
    and (reported.report_month is not null)
