with source as (
    {{ quickbooks_current_rows('journal_entries', 'JournalEntry') }}
),

renamed as (
    select
        source_relation,
        "Id" as journal_entry_id,
        "DocNumber" as doc_number,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce("Adjustment", false) as is_adjustment,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
