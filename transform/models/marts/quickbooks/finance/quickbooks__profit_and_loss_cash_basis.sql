-- The profit and loss by month and account on the cash basis: income and expenses when the money
-- moves, as QuickBooks' ProfitAndLoss report with accounting_method=Cash shows them. Same columns
-- and signs as quickbooks__profit_and_loss (accrual). The rules, QuickBooks' own:
-- * an invoice, credit memo, bill or vendor credit counts as its payments settle it: each of its
--   income and expense postings (cost of goods sold and discounts included) in the share a
--   payment line applied of the form's total, tax included in that total, in the payment's month
--   (the form's, if it was paid before it was dated; QuickBooks shows such a prepayment as
--   Unapplied Cash Payment Income in between). Each share is rounded on the amount paid so far,
--   so a form paid in full counts exactly its amounts, and an unpaid one not at all;
-- * the part of a customer payment applied to nothing counts as "Unapplied Cash Payment Income"
--   (an income row without an account id), as QuickBooks shows it;
-- * every other transaction (sales and refund receipts, purchases, deposits, journal entries)
--   counts on its own date, as in the accrual P&L.
-- Matches QuickBooks' cash-basis report to the cent
-- (tests/quickbooks/finance/assert_quickbooks__profit_and_loss_cash_basis_matches_the_report.sql).
{% set settlements = quickbooks_settlements() %}
{% set paid_later = settlements.values() | map(attribute='forms') | map('list') | sum(start=[]) %}
-- (The postings table is read twice, by name, not through a CTE: PostgreSQL would store a CTE
-- read twice in full, 1.6M rows at 266,000 QuickBooks records.)
with accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
    where account_type in ('Income', 'Cost of Goods Sold', 'Expense', 'Other Income', 'Other Expense')
),

-- each form on credit: its date and its total in its own currency (what payment lines apply)
forms as (
    select source_relation, transaction_type, transaction_id, transaction_date, abs(transaction_amount) as total_amount
    from {{ ref('int_quickbooks__postings') }}
    where posting_key = 'total'
        and transaction_type in ('{{ paid_later | join("', '") }}')
        and transaction_amount <> 0
),

applications as (
    {%- for settlement in settlements.values() %}
    {{ 'union all' if not loop.first }}
    select source_relation, {{ settlement['id_column'] }} as paid_by_id, transaction_date as paid_on, line_position,
           linked_transaction_type, linked_transaction_id, amount
    from {{ ref(settlement['lines_model']) }}
    where linked_transaction_type in ('{{ settlement['forms'] | join("', '") }}')
    {%- endfor %}
),

-- what had been paid of the form before and after each application, in the order they were paid
paid_so_far as (
    select
        applications.source_relation,
        applications.linked_transaction_type as transaction_type,
        applications.linked_transaction_id as transaction_id,
        greatest(applications.paid_on, forms.transaction_date) as recognized_on,
        forms.total_amount,
        sum(applications.amount) over paid_in_order - applications.amount as paid_before,
        sum(applications.amount) over paid_in_order as paid_after
    from applications
    inner join forms
        on applications.source_relation = forms.source_relation
        and applications.linked_transaction_type = forms.transaction_type
        and applications.linked_transaction_id = forms.transaction_id
    window paid_in_order as (
        partition by applications.source_relation, applications.linked_transaction_type, applications.linked_transaction_id
        order by applications.paid_on,
            case when applications.paid_by_id ~ '^[0-9]{1,18}$' then applications.paid_by_id::bigint end,
            applications.paid_by_id, applications.line_position
        rows unbounded preceding
    )
),

recognized as (
    -- a form on credit as it is paid (one row per payment applied), everything else on its date
    select
        postings.source_relation,
        coalesce(paid_so_far.recognized_on, postings.transaction_date) as recognized_on,
        postings.account_id,
        case
            when paid_so_far.transaction_id is null then postings.amount
            else round(postings.amount * paid_so_far.paid_after / paid_so_far.total_amount, 2)
                - round(postings.amount * paid_so_far.paid_before / paid_so_far.total_amount, 2)
        end as amount
    from {{ ref('int_quickbooks__postings') }} as postings
    inner join accounts
        on postings.source_relation = accounts.source_relation
        and postings.account_id = accounts.account_id
    left join paid_so_far
        on postings.source_relation = paid_so_far.source_relation
        and postings.transaction_type = paid_so_far.transaction_type
        and postings.transaction_id = paid_so_far.transaction_id
    where postings.transaction_type not in ('{{ paid_later | join("', '") }}')
        or paid_so_far.transaction_id is not null

    union all

    -- money received and applied to nothing (a credit, in home currency)
    select
        source_relation,
        transaction_date,
        null,
        -{{ quickbooks_home_amount('unapplied_amount', 'exchange_rate') }}
    from {{ ref('stg_quickbooks__payments') }}
    where unapplied_amount <> 0
),

-- summed by account first, named after: a narrow key sums 850,000 rows in memory, not on disk
monthly_by_account as (
    select
        source_relation,
        date_trunc('month', recognized_on)::date as period_month,
        account_id,
        sum(amount) as net_change
    from recognized
    group by 1, 2, 3
),

monthly as (
    select
        monthly_by_account.source_relation,
        monthly_by_account.period_month,
        monthly_by_account.account_id,
        coalesce(accounts.account_name, 'Unapplied Cash Payment Income') as account_name,
        coalesce(accounts.account_type, 'Income') as account_type,
        monthly_by_account.net_change
    from monthly_by_account
    left join accounts
        on monthly_by_account.source_relation = accounts.source_relation
        and monthly_by_account.account_id = accounts.account_id
)

{{ quickbooks_profit_and_loss_rows('monthly', 'cash') }}
