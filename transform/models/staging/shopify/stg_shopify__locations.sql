with source as (
    {{ shopify_current_rows('locations') }}
),

renamed as (
    select
        source_relation,
        "legacyResourceId" as location_id,
        id as location_gid,
        name as location_name,
        coalesce("isActive", false) as is_active,
        coalesce("fulfillsOnlineOrders", false) as is_fulfilling_online_orders,
        coalesce("shipsInventory", false) as is_shipping_inventory,
        coalesce("hasActiveInventory", false) as has_active_inventory,
        address ->> 'city' as city,
        address ->> 'provinceCode' as province_code,
        address ->> 'countryCode' as country_code,
        address ->> 'zip' as zip,
        {{ shopify_utc('"createdAt"') }} as created_at,
        {{ shopify_utc('"updatedAt"') }} as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
