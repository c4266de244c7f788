with source as (
    {{ shopify_current_rows('product_variants') }}
),

renamed as (
    select
        source_relation,
        "legacyResourceId" as variant_id,
        id as variant_gid,
        {{ shopify_gid_to_id("product ->> 'id'") }} as product_id,
        {{ shopify_gid_to_id("\"inventoryItem\" ->> 'id'") }} as inventory_item_id,
        title as variant_title,
        "displayName" as display_name,
        sku,
        barcode,
        -- Price and compare-at price are Money scalars (decimal strings), in the shop's currency.
        nullif(price, '')::numeric(18, 2) as price,
        nullif("compareAtPrice", '')::numeric(18, 2) as compare_at_price,
        position as variant_position,
        coalesce(taxable, false) as is_taxable,
        coalesce("availableForSale", false) as is_available_for_sale,
        "inventoryPolicy" as inventory_policy,
        "inventoryQuantity" as inventory_quantity,
        {{ shopify_utc('"createdAt"') }} as created_at,
        {{ shopify_utc('"updatedAt"') }} as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
