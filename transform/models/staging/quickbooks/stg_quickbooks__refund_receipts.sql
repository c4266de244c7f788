with source as (
    {{ quickbooks_current_rows('refund_receipts', 'RefundReceipt') }}
),

renamed as (
    select
        source_relation,
        "Id" as refund_receipt_id,
        "DocNumber" as doc_number,
        {{ quickbooks_ref_id('"CustomerRef"') }} as customer_id,
        {{ quickbooks_ref_name('"CustomerRef"') }} as customer_name,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce({{ quickbooks_money("\"TxnTaxDetail\" ->> 'TotalTax'") }}, 0) as tax_amount,
        {{ quickbooks_tax_lines('"TxnTaxDetail"') }} as tax_lines,
        {{ quickbooks_money('"Balance"') }} as balance,
        {{ quickbooks_ref_id('"DepositToAccountRef"') }} as refund_from_account_id,
        {{ quickbooks_ref_id('"PaymentMethodRef"') }} as payment_method_id,
        "PaymentType" as payment_type,
        {{ quickbooks_ref_id('"ClassRef"') }} as class_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
