-- With multicurrency on, QuickBooks keeps an A/R and an A/P account for each foreign currency
-- the company trades in (it names them "Accounts Receivable (A/R) - EUR" and so on) and posts a
-- form in that currency to them, though an invoice or credit memo names no A/R account: one row
-- per company and foreign currency. The home currency's are int_quickbooks__default_accounts'.
-- Should a company have two of one kind in one currency, the oldest (lowest id).
with accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

preferences as (
    select * from {{ ref('stg_quickbooks__preferences') }}
),

ranked as (
    select
        accounts.source_relation,
        accounts.currency_code,
        accounts.account_id,
        accounts.account_sub_type,
        row_number() over (
            partition by accounts.source_relation, accounts.currency_code, accounts.account_sub_type
            order by length(accounts.account_id), accounts.account_id
        ) as rank_in_currency
    from accounts
    inner join preferences
        on accounts.source_relation = preferences.source_relation
    where accounts.account_sub_type in ('AccountsReceivable', 'AccountsPayable')
        and accounts.currency_code <> preferences.home_currency_code
)

select
    source_relation,
    currency_code,
    max(case when account_sub_type = 'AccountsReceivable' then account_id end) as receivable_account_id,
    max(case when account_sub_type = 'AccountsPayable' then account_id end) as payable_account_id
from ranked
where rank_in_currency = 1
group by source_relation, currency_code
