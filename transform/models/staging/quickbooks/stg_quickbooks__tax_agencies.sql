with source as (
    {{ quickbooks_current_rows('tax_agencies', 'TaxAgency') }}
),

renamed as (
    select
        source_relation,
        "Id" as tax_agency_id,
        "DisplayName" as tax_agency_name,
        coalesce("TaxTrackedOnSales", false) as tracks_tax_on_sales,
        coalesce("TaxTrackedOnPurchases", false) as tracks_tax_on_purchases,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
