with source as (
    {{ quickbooks_current_rows('invoices', 'Invoice') }}
),

renamed as (
    select
        source_relation,
        "Id" as invoice_id,
        "DocNumber" as doc_number,
        {{ quickbooks_ref_id('"CustomerRef"') }} as customer_id,
        {{ quickbooks_ref_name('"CustomerRef"') }} as customer_name,
        "TxnDate"::date as transaction_date,
        "DueDate"::date as due_date,
        {{ quickbooks_money('"TotalAmt"') }} as total_amount,
        coalesce({{ quickbooks_money("\"TxnTaxDetail\" ->> 'TotalTax'") }}, 0) as tax_amount,
        {{ quickbooks_tax_lines('"TxnTaxDetail"') }} as tax_lines,
        coalesce({{ quickbooks_money('"Deposit"') }}, 0) as deposit_amount,
        {{ quickbooks_money('"Balance"') }} as balance,
        -- the open balance in the home currency (at the form's rate), as QuickBooks states it, or
        -- worked out from the rate when it does not (a home-currency form: the balance itself)
        coalesce(
            {{ quickbooks_money('"HomeBalance"') }},
            round({{ quickbooks_money('"Balance"') }} * coalesce({{ quickbooks_decimal('"ExchangeRate"') }}, 1), 2)
        ) as home_balance,
        {{ quickbooks_ref_id('"SalesTermRef"') }} as sales_term_id,
        {{ quickbooks_ref_id('"DepositToAccountRef"') }} as deposit_to_account_id,
        {{ quickbooks_ref_id('"ClassRef"') }} as class_id,
        {{ quickbooks_ref_id('"DepartmentRef"') }} as department_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_decimal('"ExchangeRate"') }} as exchange_rate,
        "GlobalTaxCalculation" as global_tax_calculation,
        "EmailStatus" as email_status,
        "PrintStatus" as print_status,
        "BillEmail" ->> 'Address' as bill_email,
        "PrivateNote" as private_note,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
