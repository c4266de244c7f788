with source as (
    {{ quickbooks_current_rows('bill_payments', 'BillPayment') }}
),

renamed as (
    select
        source_relation,
        "Id" as bill_payment_id,
        "DocNumber" as doc_number,
        {{ quickbooks_ref_id('"VendorRef"') }} as vendor_id,
        {{ quickbooks_ref_name('"VendorRef"') }} as vendor_name,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        "PayType" as pay_type,
        -- Paid from a bank account (check) or a credit card, depending on PayType.
        coalesce(
            {{ quickbooks_ref_id('"CheckPayment"', "-> 'BankAccountRef'") }},
            {{ quickbooks_ref_id('"CreditCardPayment"', "-> 'CCAccountRef'") }}
        ) as payment_account_id,
        {{ quickbooks_ref_id('"APAccountRef"') }} as payable_account_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
