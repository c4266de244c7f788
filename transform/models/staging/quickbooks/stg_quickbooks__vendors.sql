with source as (
    {{ quickbooks_current_rows('vendors', 'Vendor') }}
),

renamed as (
    select
        source_relation,
        "Id" as vendor_id,
        "DisplayName" as display_name,
        "CompanyName" as company_name,
        "GivenName" as given_name,
        "FamilyName" as family_name,
        "PrimaryEmailAddr" ->> 'Address' as email,
        "PrimaryPhone" ->> 'FreeFormNumber' as phone,
        "WebAddr" ->> 'URI' as website,
        "AcctNum" as account_number,
        coalesce("Active", true) as is_active,
        coalesce("Vendor1099", false) as is_1099_vendor,
        {{ quickbooks_money('"Balance"') }} as balance,
        {{ quickbooks_ref_id('"TermRef"') }} as term_id,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
