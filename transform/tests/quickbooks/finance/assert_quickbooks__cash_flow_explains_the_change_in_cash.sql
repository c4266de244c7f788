-- The cash-flow statement's lines for a month add up to that month's change in cash, and its cash
-- at the month's end is what the balance sheet holds in the bank accounts and Undeposited Funds.
with flows as (
    select
        source_relation,
        period_month,
        sum(amount) as net_cash_flow,
        max(month_cash_at_start) as cash_at_start,
        max(month_cash_at_end) as cash_at_end
    from {{ ref('quickbooks__cash_flow') }}
    group by 1, 2
),

balance_sheet_cash as (
    select balance_sheet.source_relation, balance_sheet.period_month, sum(balance_sheet.amount) as cash
    from {{ ref('quickbooks__balance_sheet') }} as balance_sheet
    inner join {{ ref('stg_quickbooks__accounts') }} as accounts
        on balance_sheet.source_relation = accounts.source_relation
        and balance_sheet.account_id = accounts.account_id
    where accounts.account_type = 'Bank' or accounts.account_sub_type = 'UndepositedFunds'
    group by 1, 2
)

select flows.*, balance_sheet_cash.cash as balance_sheet_cash
from flows
left join balance_sheet_cash
    on flows.source_relation = balance_sheet_cash.source_relation
    and flows.period_month = balance_sheet_cash.period_month
where flows.net_cash_flow <> flows.cash_at_end - flows.cash_at_start
    or flows.cash_at_end <> coalesce(balance_sheet_cash.cash, 0)
