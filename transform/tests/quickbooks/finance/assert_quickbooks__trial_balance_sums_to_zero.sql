-- Every month of every company: the month's debits equal its credits, and the closing balances
-- of all accounts sum to zero.
select
    source_relation,
    period_month,
    sum(debit_amount) - sum(credit_amount) as period_imbalance,
    sum(closing_balance) as closing_imbalance
from {{ ref('quickbooks__trial_balance') }}
group by 1, 2
having sum(debit_amount) <> sum(credit_amount) or sum(closing_balance) <> 0
