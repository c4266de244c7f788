with source as (
    {{ quickbooks_current_rows('deposits', 'Deposit') }}
),

renamed as (
    select
        source_relation,
        "Id" as deposit_id,
        "TxnDate"::date as transaction_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        {{ quickbooks_ref_id('"DepositToAccountRef"') }} as deposit_to_account_id,
        {{ quickbooks_money("\"CashBack\" ->> 'Amount'") }} as cash_back_amount,
        {{ quickbooks_ref_id('"CashBack"', "-> 'AccountRef'") }} as cash_back_account_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
