with source as (
    {{ shopify_current_rows('products') }}
),

renamed as (
    select
        source_relation,
        "legacyResourceId" as product_id,
        id as product_gid,
        title as product_title,
        handle,
        vendor,
        "productType" as product_type,
        status,
        coalesce(tags, '{}'::text[]) as tags,
        -- Shopify's sum of the variants' available quantities over all locations.
        "totalInventory" as total_inventory,
        coalesce("tracksInventory", false) as is_inventory_tracked,
        ("variantsCount" ->> 'count')::integer as variant_count,
        {{ shopify_utc('"createdAt"') }} as created_at,
        {{ shopify_utc('"publishedAt"') }} as published_at,
        {{ shopify_utc('"updatedAt"') }} as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
