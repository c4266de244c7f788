with source as (
    {{ quickbooks_current_rows('sales_receipts', 'SalesReceipt') }}
),

renamed as (
    select
        source_relation,
        "Id" as sales_receipt_id,
        "DocNumber" as doc_number,
        {{ quickbooks_ref_id('"CustomerRef"') }} as customer_id,
        {{ quickbooks_ref_name('"CustomerRef"') }} as customer_name,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce({{ quickbooks_money("\"TxnTaxDetail\" ->> 'TotalTax'") }}, 0) as tax_amount,
        {{ quickbooks_tax_lines('"TxnTaxDetail"') }} as tax_lines,
        {{ quickbooks_money('"Balance"') }} as balance,
        {{ quickbooks_ref_id('"DepositToAccountRef"') }} as deposit_to_account_id,
        {{ quickbooks_ref_id('"PaymentMethodRef"') }} as payment_method_id,
        "PaymentRefNum" as payment_reference_number,
        {{ quickbooks_ref_id('"ClassRef"') }} as class_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
