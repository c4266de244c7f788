with source as (
    select * from {{ source('__source__', 'customers') }}
),

renamed as (
    select
        id as customer_id,
        nullif(trim(name), '') as customer_name,
        nullif(lower(trim(email)), '') as email,
        nullif(lower(trim(company_domain)), '') as company_domain,
        status,
        status = 'active' as is_active,
        cast(lifetime_value as numeric(14, 2)) as lifetime_value,
        (created_at at time zone 'UTC') as created_at,
        (updated_at at time zone 'UTC') as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
