with source as (
    {{ quickbooks_current_rows('tax_rates', 'TaxRate') }}
),

renamed as (
    select
        source_relation,
        "Id" as tax_rate_id,
        "Name" as tax_rate_name,
        {{ quickbooks_ref_id('"AgencyRef"') }} as tax_agency_id,
        {{ quickbooks_decimal('"RateValue"') }} as rate_percent,
        coalesce("Active", true) as is_active,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
