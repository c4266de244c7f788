-- The accounts QuickBooks posts to without naming them on the transaction, one row per company:
-- accounts receivable (an invoice names none), accounts payable, the sales tax liability,
-- Undeposited Funds (a payment or sales receipt with no deposit account), Retained Earnings, and
-- with multicurrency on, Exchange Gain or Loss (a payment's realized gain or loss). QuickBooks
-- keeps one of each per company, A/R and A/P in the home currency (a foreign currency's are
-- int_quickbooks__currency_accounts'); should there be several, the oldest (lowest id).
with accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

preferences as (
    select * from {{ ref('stg_quickbooks__preferences') }}
),

ranked as (
    select
        accounts.source_relation,
        accounts.account_id,
        accounts.account_sub_type,
        row_number() over (
            partition by accounts.source_relation, accounts.account_sub_type
            order by accounts.currency_code is distinct from preferences.home_currency_code,
                length(accounts.account_id), accounts.account_id
        ) as rank_in_sub_type
    from accounts
    left join preferences
        on accounts.source_relation = preferences.source_relation
    where accounts.account_sub_type in (
        'AccountsReceivable', 'AccountsPayable', 'SalesTaxPayable', 'GlobalTaxPayable',
        'UndepositedFunds', 'RetainedEarnings', 'ExchangeGainOrLoss'
    )
)

select
    source_relation,
    max(case when account_sub_type = 'AccountsReceivable' then account_id end) as receivable_account_id,
    max(case when account_sub_type = 'AccountsPayable' then account_id end) as payable_account_id,
    coalesce(
        max(case when account_sub_type = 'GlobalTaxPayable' then account_id end),
        max(case when account_sub_type = 'SalesTaxPayable' then account_id end)
    ) as sales_tax_account_id,
    max(case when account_sub_type = 'UndepositedFunds' then account_id end) as undeposited_funds_account_id,
    max(case when account_sub_type = 'RetainedEarnings' then account_id end) as retained_earnings_account_id,
    max(case when account_sub_type = 'ExchangeGainOrLoss' then account_id end) as exchange_gain_or_loss_account_id
from ranked
where rank_in_sub_type = 1
group by source_relation
