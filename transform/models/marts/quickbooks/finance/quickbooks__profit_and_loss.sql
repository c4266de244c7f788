-- The profit and loss by month and account, from the ledger (accrual basis: income and expenses
-- when the transaction is dated, not when it is paid). Amounts in each section's natural sign:
-- income and expenses both positive when normal, so net income = income - cost of goods sold -
-- expenses + other income - other expenses. Matches QuickBooks' own ProfitAndLoss report to the
-- cent (tests/quickbooks/assert_quickbooks__profit_and_loss_matches_the_report.sql).
with trial_balance as (
    select * from {{ ref('quickbooks__trial_balance') }}
    where financial_statement = 'profit_and_loss'
)

{{ quickbooks_profit_and_loss_rows('trial_balance', 'accrual') }}
