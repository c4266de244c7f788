-- The trial balance by month: every account of every company, every month from its first
-- posting to the as-of month (quickbooks_as_of_date), with the month's debits and credits and the
-- balance at the month's end (debits positive, since the first posting: profit-and-loss accounts
-- are not closed to retained earnings here; quickbooks__balance_sheet does that). Each month's
-- closing balances sum to zero (tested). Read from the postings summed by day, not from the
-- general ledger view: only the amounts are needed, not the ledger's running balances.
with monthly as (
    select
        source_relation,
        account_id,
        date_trunc('month', transaction_date)::date as period_month,
        sum(debit_amount) as debit_amount,
        sum(credit_amount) as credit_amount
    from {{ ref('int_quickbooks__daily_account_totals') }}
    group by 1, 2, 3
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

company_months as (
    select
        source_relation,
        month_start::date as period_month
    from (
        select source_relation, min(period_month) as first_month, max(period_month) as last_month
        from monthly
        group by source_relation
    ) as spans
    cross join lateral generate_series(
        spans.first_month,
        date_trunc('month', greatest(spans.last_month, {{ quickbooks_as_of_date() }})),
        interval '1 month'
    ) as month_start
),

posted_accounts as (
    select distinct source_relation, account_id from monthly
),

filled as (
    select
        company_months.source_relation,
        company_months.period_month,
        posted_accounts.account_id,
        coalesce(monthly.debit_amount, 0) as debit_amount,
        coalesce(monthly.credit_amount, 0) as credit_amount
    from company_months
    inner join posted_accounts
        on company_months.source_relation = posted_accounts.source_relation
    left join monthly
        on monthly.source_relation = company_months.source_relation
        and monthly.account_id = posted_accounts.account_id
        and monthly.period_month = company_months.period_month
),

balances as (
    select
        *,
        debit_amount - credit_amount as net_change,
        sum(debit_amount - credit_amount) over (
            partition by source_relation, account_id order by period_month
            rows between unbounded preceding and current row
        ) as closing_balance
    from filled
)

select
    balances.source_relation,
    balances.period_month || ':' || balances.account_id as trial_balance_id,
    balances.period_month,
    (balances.period_month + interval '1 month - 1 day')::date as period_end_date,
    balances.account_id,
    accounts.account_name,
    accounts.account_type,
    accounts.account_sub_type,
    accounts.classification as account_classification,
    {{ quickbooks_financial_statement('accounts.account_type') }} as financial_statement,
    balances.closing_balance - balances.net_change as opening_balance,
    balances.debit_amount,
    balances.credit_amount,
    balances.net_change,
    balances.closing_balance
from balances
left join accounts
    on balances.source_relation = accounts.source_relation
    and balances.account_id = accounts.account_id
