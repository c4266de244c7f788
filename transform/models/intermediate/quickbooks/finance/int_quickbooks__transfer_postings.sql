-- Transfers between balance-sheet accounts: into one, out of the other.
with transfers as (
    select * from {{ ref('stg_quickbooks__transfers') }}
),

postings as (
    select
        transfers.source_relation,
        'Transfer' as transaction_type,
        transfers.transfer_id as transaction_id,
        sides.posting_key,
        transfers.transaction_date,
        null::text as doc_number,
        case sides.posting_key when 'to' then transfers.to_account_id else transfers.from_account_id end as account_id,
        sides.posting_sign * transfers.amount as transaction_amount,
        transfers.currency_code,
        null::numeric as exchange_rate,
        null::text as customer_id,
        null::text as vendor_id,
        null::text as class_id,
        null::text as department_id,
        transfers.private_note as description
    from transfers
    cross join (values ('to', 1), ('from', -1)) as sides(posting_key, posting_sign)
    where transfers.amount <> 0
)

select {{ quickbooks_posting_columns() }} from postings
