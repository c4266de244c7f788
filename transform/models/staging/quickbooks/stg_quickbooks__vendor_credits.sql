-- Vendor credits: what a vendor owes back (a returned purchase, a refund to come). They lower
-- accounts payable and reverse the expense they name.
with source as (
    {{ quickbooks_current_rows('vendor_credits', 'VendorCredit') }}
),

renamed as (
    select
        source_relation,
        "Id" as vendor_credit_id,
        "DocNumber" as doc_number,
        {{ quickbooks_ref_id('"VendorRef"') }} as vendor_id,
        {{ quickbooks_ref_name('"VendorRef"') }} as vendor_name,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        {{ quickbooks_money('"Balance"') }} as balance,
        {{ quickbooks_ref_id('"APAccountRef"') }} as payable_account_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
