with source as (
    {{ shopify_current_rows('inventory_items') }}
),

renamed as (
    select
        source_relation,
        "legacyResourceId" as inventory_item_id,
        id as inventory_item_gid,
        sku,
        coalesce(tracked, false) as is_tracked,
        coalesce("requiresShipping", false) as is_shipping_required,
        "countryCodeOfOrigin" as country_code_of_origin,
        "harmonizedSystemCode" as harmonized_system_code,
        {{ shopify_money_v2('"unitCost"') }} as unit_cost,
        "unitCost" ->> 'currencyCode' as unit_cost_currency_code,
        {{ shopify_utc('"createdAt"') }} as created_at,
        {{ shopify_utc('"updatedAt"') }} as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
