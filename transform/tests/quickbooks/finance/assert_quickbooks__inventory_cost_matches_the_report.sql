{{ config(severity='warn') }}
{#
    Cost of goods sold and net income, ledger against QuickBooks' ProfitAndLoss report, by month.
    A warning, not an error: the ledger costs an inventory item sold at the item's purchase cost,
    while QuickBooks values it FIFO (the cost of the units bought first), which its API does not
    expose; the two part when an item's cost changed while older units were still in stock. Every
    other figure is held to the cent (assert_quickbooks__profit_and_loss_matches_the_report).
#}
with report_days as (
    select distinct source_relation, report_date from {{ ref('stg_quickbooks__profit_and_loss') }}
),

reported as (
    select
        source_relation,
        date_trunc('month', report_date)::date as period_month,
        coalesce(sum(amount) filter (where row_label = 'Total Cost of Goods Sold'), 0) as cost_of_goods_sold,
        coalesce(sum(amount) filter (where row_label = 'Net Income'), 0) as net_income
    from {{ ref('stg_quickbooks__profit_and_loss') }}
    group by 1, 2
),

ledger as (
    select
        ledger.source_relation,
        date_trunc('month', ledger.transaction_date)::date as period_month,
        coalesce(sum(ledger.amount) filter (where ledger.account_type = 'Cost of Goods Sold'), 0) as cost_of_goods_sold,
        coalesce(sum(-ledger.amount) filter (where ledger.financial_statement = 'profit_and_loss'), 0) as net_income
    from {{ ref('quickbooks__general_ledger') }} as ledger
    inner join report_days
        on ledger.source_relation = report_days.source_relation
        and ledger.transaction_date = report_days.report_date
    group by 1, 2
)

select
    coalesce(reported.source_relation, ledger.source_relation) as source_relation,
    coalesce(reported.period_month, ledger.period_month) as period_month,
    reported.cost_of_goods_sold as reported_cost_of_goods_sold, ledger.cost_of_goods_sold as ledger_cost_of_goods_sold,
    reported.net_income as reported_net_income, ledger.net_income as ledger_net_income
from reported
full outer join ledger
    on reported.source_relation = ledger.source_relation
    and reported.period_month = ledger.period_month
where coalesce(reported.cost_of_goods_sold, 0) <> coalesce(ledger.cost_of_goods_sold, 0)
    or coalesce(reported.net_income, 0) <> coalesce(ledger.net_income, 0)
