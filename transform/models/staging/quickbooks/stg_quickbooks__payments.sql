with source as (
    {{ quickbooks_current_rows('payments', 'Payment') }}
),

renamed as (
    select
        source_relation,
        "Id" as payment_id,
        {{ quickbooks_ref_id('"CustomerRef"') }} as customer_id,
        {{ quickbooks_ref_name('"CustomerRef"') }} as customer_name,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce({{ quickbooks_money('"UnappliedAmt"') }}, 0) as unapplied_amount,
        {{ quickbooks_ref_id('"PaymentMethodRef"') }} as payment_method_id,
        {{ quickbooks_ref_id('"DepositToAccountRef"') }} as deposit_to_account_id,
        {{ quickbooks_ref_id('"ARAccountRef"') }} as receivable_account_id,
        "PaymentRefNum" as payment_reference_number,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
