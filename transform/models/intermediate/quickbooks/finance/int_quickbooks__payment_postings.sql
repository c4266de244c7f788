-- Customer payments: the money into the account it was deposited to (Undeposited Funds when
-- none is named), off the customer's receivable: the whole amount, applied to invoices or not
-- (an unapplied amount is a credit on the customer's account, still off A/R).
with payments as (
    select * from {{ ref('stg_quickbooks__payments') }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

postings as (
    select
        payments.source_relation,
        'Payment' as transaction_type,
        payments.payment_id as transaction_id,
        sides.posting_key,
        payments.transaction_date,
        payments.payment_reference_number as doc_number,
        case sides.posting_key
            when 'deposit' then coalesce(payments.deposit_to_account_id, default_accounts.undeposited_funds_account_id)
            else coalesce(payments.receivable_account_id, default_accounts.receivable_account_id)
        end as account_id,
        sides.posting_sign * payments.total_amount as transaction_amount,
        payments.currency_code,
        payments.exchange_rate,
        payments.customer_id,
        null::text as vendor_id,
        null::text as class_id,
        null::text as department_id,
        payments.private_note as description
    from payments
    left join default_accounts using (source_relation)
    cross join (values ('deposit', 1), ('receivable', -1)) as sides(posting_key, posting_sign)
    where payments.total_amount <> 0
)

select {{ quickbooks_posting_columns() }} from postings
