with source as (
    {{ quickbooks_current_rows('customers', 'Customer') }}
),

renamed as (
    select
        source_relation,
        "Id" as customer_id,
        "DisplayName" as display_name,
        "CompanyName" as company_name,
        "GivenName" as given_name,
        "FamilyName" as family_name,
        "FullyQualifiedName" as fully_qualified_name,
        "PrimaryEmailAddr" ->> 'Address' as email,
        "PrimaryPhone" ->> 'FreeFormNumber' as phone,
        "WebAddr" ->> 'URI' as website,
        coalesce("Active", true) as is_active,
        coalesce("Job", false) as is_job,
        {{ quickbooks_ref_id('"ParentRef"') }} as parent_customer_id,
        "Taxable" as is_taxable,
        {{ quickbooks_money('"Balance"') }} as balance,
        {{ quickbooks_money('"BalanceWithJobs"') }} as balance_with_jobs,
        {{ quickbooks_ref_id('"SalesTermRef"') }} as sales_term_id,
        {{ quickbooks_ref_id('"PaymentMethodRef"') }} as payment_method_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        "BillAddr" ->> 'City' as billing_city,
        "BillAddr" ->> 'CountrySubDivisionCode' as billing_region,
        "BillAddr" ->> 'Country' as billing_country,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
