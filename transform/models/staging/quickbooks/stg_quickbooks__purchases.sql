-- Purchases are QuickBooks' expenses, checks and credit-card charges (PaymentType says which).
with source as (
    {{ quickbooks_current_rows('purchases', 'Purchase') }}
),

renamed as (
    select
        source_relation,
        "Id" as purchase_id,
        "DocNumber" as doc_number,
        "PaymentType" as payment_type,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce({{ quickbooks_money("\"TxnTaxDetail\" ->> 'TotalTax'") }}, 0) as tax_amount,
        {{ quickbooks_tax_lines('"TxnTaxDetail"') }} as tax_lines,
        -- A credit-card credit (refund) rather than a charge.
        coalesce("Credit", false) as is_credit,
        {{ quickbooks_ref_id('"AccountRef"') }} as payment_account_id,
        {{ quickbooks_ref_id('"EntityRef"') }} as payee_id,
        "EntityRef" ->> 'type' as payee_type,
        {{ quickbooks_ref_name('"EntityRef"') }} as payee_name,
        {{ quickbooks_ref_id('"PaymentMethodRef"') }} as payment_method_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
