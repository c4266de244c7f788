with source as (
    {{ quickbooks_current_rows('payment_methods', 'PaymentMethod') }}
),

renamed as (
    select
        source_relation,
        "Id" as payment_method_id,
        "Name" as payment_method_name,
        "Type" as payment_method_type,
        coalesce("Active", true) as is_active,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
