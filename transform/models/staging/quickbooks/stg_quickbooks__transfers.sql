with source as (
    {{ quickbooks_current_rows('transfers', 'Transfer') }}
),

renamed as (
    select
        source_relation,
        "Id" as transfer_id,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"Amount"') }} as amount,
        {{ quickbooks_ref_id('"FromAccountRef"') }} as from_account_id,
        {{ quickbooks_ref_name('"FromAccountRef"') }} as from_account_name,
        {{ quickbooks_ref_id('"ToAccountRef"') }} as to_account_id,
        {{ quickbooks_ref_name('"ToAccountRef"') }} as to_account_name,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
