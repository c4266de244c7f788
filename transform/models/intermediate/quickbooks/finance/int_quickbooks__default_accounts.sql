-- The accounts QuickBooks posts to without naming them on the transaction, one row per company:
-- accounts receivable (an invoice names none), accounts payable, the sales tax liability,
-- Undeposited Funds (a payment or sales receipt with no deposit account), Retained Earnings.
-- QuickBooks keeps one of each per company; should there be several, the oldest (lowest id).
with accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

ranked as (
    select
        source_relation,
        account_id,
        account_sub_type,
        row_number() over (
            partition by source_relation, account_sub_type order by length(account_id), account_id
        ) as rank_in_sub_type
    from accounts
    where account_sub_type in (
        'AccountsReceivable', 'AccountsPayable', 'SalesTaxPayable', 'GlobalTaxPayable',
        'UndepositedFunds', 'RetainedEarnings'
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
    max(case when account_sub_type = 'RetainedEarnings' then account_id end) as retained_earnings_account_id
from ranked
where rank_in_sub_type = 1
group by source_relation
