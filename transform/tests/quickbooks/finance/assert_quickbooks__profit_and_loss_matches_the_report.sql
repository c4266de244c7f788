{#
    The ledger's profit and loss agrees with QuickBooks' own ProfitAndLoss report, to the cent, for
    every month over the days the report covers: total income, total expenses, other income and
    other expenses. Cost of goods sold and net income are checked apart
    (assert_quickbooks__inventory_cost_matches_the_report, a warning): QuickBooks values inventory
    FIFO, which its API does not expose.
#}
with report_days as (
    select distinct source_relation, report_date from {{ ref('stg_quickbooks__profit_and_loss') }}
),

reported as (
    select
        source_relation,
        date_trunc('month', report_date)::date as period_month,
        coalesce(sum(amount) filter (where row_label = 'Total Income'), 0) as income,
        coalesce(sum(amount) filter (where row_label = 'Total Expenses'), 0) as expenses,
        coalesce(sum(amount) filter (where row_label = 'Total Other Income'), 0) as other_income,
        coalesce(sum(amount) filter (where row_label = 'Total Other Expenses'), 0) as other_expenses
    from {{ ref('stg_quickbooks__profit_and_loss') }}
    group by 1, 2
),

ledger as (
    select
        ledger.source_relation,
        date_trunc('month', ledger.transaction_date)::date as period_month,
        coalesce(sum(-ledger.amount) filter (where ledger.account_type = 'Income'), 0) as income,
        coalesce(sum(ledger.amount) filter (where ledger.account_type = 'Expense'), 0) as expenses,
        coalesce(sum(-ledger.amount) filter (where ledger.account_type = 'Other Income'), 0) as other_income,
        coalesce(sum(ledger.amount) filter (where ledger.account_type = 'Other Expense'), 0) as other_expenses
    from {{ ref('quickbooks__general_ledger') }} as ledger
    inner join report_days
        on ledger.source_relation = report_days.source_relation
        and ledger.transaction_date = report_days.report_date
    group by 1, 2
)

select
    coalesce(reported.source_relation, ledger.source_relation) as source_relation,
    coalesce(reported.period_month, ledger.period_month) as period_month,
    reported.income as reported_income, ledger.income as ledger_income,
    reported.expenses as reported_expenses, ledger.expenses as ledger_expenses,
    reported.other_income as reported_other_income, ledger.other_income as ledger_other_income,
    reported.other_expenses as reported_other_expenses, ledger.other_expenses as ledger_other_expenses
from reported
full outer join ledger
    on reported.source_relation = ledger.source_relation
    and reported.period_month = ledger.period_month
where coalesce(reported.income, 0) <> coalesce(ledger.income, 0)
    or coalesce(reported.expenses, 0) <> coalesce(ledger.expenses, 0)
    or coalesce(reported.other_income, 0) <> coalesce(ledger.other_income, 0)
    or coalesce(reported.other_expenses, 0) <> coalesce(ledger.other_expenses, 0)
