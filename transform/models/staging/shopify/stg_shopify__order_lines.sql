with line_items as (
    {{ shopify_order_elements('lineItems') }}
),

renamed as (
    select
        source_relation,
        {{ shopify_gid_to_id("element ->> 'id'") }} as order_line_id,
        element ->> 'id' as order_line_gid,
        order_id,
        position as line_position,
        {{ shopify_gid_to_id("element -> 'product' ->> 'id'") }} as product_id,
        {{ shopify_gid_to_id("element -> 'variant' ->> 'id'") }} as variant_id,
        element ->> 'name' as line_name,
        element ->> 'title' as product_title,
        element ->> 'variantTitle' as variant_title,
        element ->> 'sku' as sku,
        element ->> 'vendor' as vendor,
        (element ->> 'quantity')::integer as quantity,
        -- Quantity left after removals and refunds.
        (element ->> 'currentQuantity')::integer as current_quantity,
        {{ shopify_money("element -> 'originalUnitPriceSet'") }} as original_unit_price,
        -- Unit price times quantity, before any discount.
        {{ shopify_money("element -> 'originalTotalSet'") }} as original_total,
        -- Every discount allocated to the line, order-level ones spread "ACROSS" included.
        {{ shopify_sum_money("element -> 'discountAllocations'", 'allocatedAmountSet') }} as discount_amount,
        {{ shopify_money("element -> 'totalDiscountSet'") }} as shopify_total_discount,
        {{ shopify_sum_money("element -> 'taxLines'", 'priceSet') }} as tax_amount,
        coalesce((element ->> 'taxable')::boolean, false) as is_taxable,
        coalesce((element ->> 'requiresShipping')::boolean, false) as is_shipping_required,
        coalesce((element ->> 'isGiftCard')::boolean, false) as is_gift_card,
        order_currency_code as currency_code,
        {{ shopify_utc('order_created_at') }} as order_created_at,
        _sdc_batched_at as _loaded_at
    from line_items
)

select
    *,
    original_total - discount_amount as discounted_total
from renamed
