-- The profit and loss by month and account, from the ledger (accrual basis: income and expenses
-- when the transaction is dated, not when it is paid). Amounts in each section's natural sign:
-- income and expenses both positive when normal, so net income = income - cost of goods sold -
-- expenses + other income - other expenses. Matches QuickBooks' own ProfitAndLoss report to the
-- cent (tests/quickbooks/assert_quickbooks__profit_and_loss_matches_the_report.sql).
with trial_balance as (
    select * from {{ ref('quickbooks__trial_balance') }}
    where financial_statement = 'profit_and_loss'
)

select
    source_relation,
    period_month || ':' || account_id as profit_and_loss_id,
    period_month,
    case account_type
        when 'Income' then 'Income'
        when 'Cost of Goods Sold' then 'Cost of Goods Sold'
        when 'Expense' then 'Expenses'
        when 'Other Income' then 'Other Income'
        when 'Other Expense' then 'Other Expenses'
    end as section,
    account_id,
    account_name,
    account_type,
    case when account_type in ('Income', 'Other Income') then -net_change else net_change end as amount,
    -- what the month adds to net income: income raises it, expenses lower it
    -net_change as net_income_effect,
    'accrual' as accounting_method
from trial_balance
where net_change <> 0
