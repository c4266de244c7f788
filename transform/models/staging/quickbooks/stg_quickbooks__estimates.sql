with source as (
    {{ quickbooks_current_rows('estimates', 'Estimate') }}
),

renamed as (
    select
        source_relation,
        "Id" as estimate_id,
        "DocNumber" as doc_number,
        {{ quickbooks_ref_id('"CustomerRef"') }} as customer_id,
        {{ quickbooks_ref_name('"CustomerRef"') }} as customer_name,
        "TxnDate"::date as transaction_date,
        "ExpirationDate"::date as expiration_date,
        "AcceptedDate"::date as accepted_date,
        "TxnStatus" as status,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce({{ quickbooks_money("\"TxnTaxDetail\" ->> 'TotalTax'") }}, 0) as tax_amount,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
