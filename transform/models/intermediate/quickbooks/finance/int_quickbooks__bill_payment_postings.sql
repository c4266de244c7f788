-- Bill payments: off what the company owes (A/P), out of the bank or card account that paid.
with bill_payments as (
    select * from {{ ref('stg_quickbooks__bill_payments') }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

postings as (
    select
        bill_payments.source_relation,
        'BillPayment' as transaction_type,
        bill_payments.bill_payment_id as transaction_id,
        sides.posting_key,
        bill_payments.transaction_date,
        bill_payments.doc_number,
        case sides.posting_key
            when 'payable' then coalesce(bill_payments.payable_account_id, default_accounts.payable_account_id)
            else bill_payments.payment_account_id
        end as account_id,
        sides.posting_sign * bill_payments.total_amount as transaction_amount,
        bill_payments.currency_code,
        bill_payments.exchange_rate,
        null::text as customer_id,
        bill_payments.vendor_id,
        null::text as class_id,
        bill_payments.department_id,
        bill_payments.private_note as description
    from bill_payments
    left join default_accounts using (source_relation)
    cross join (values ('payable', 1), ('paid_from', -1)) as sides(posting_key, posting_sign)
    where bill_payments.total_amount <> 0
)

select {{ quickbooks_posting_columns() }} from postings
