with shipping_lines as (
    {{ shopify_order_elements('shippingLines') }}
),

renamed as (
    select
        source_relation,
        {{ shopify_gid_to_id("element ->> 'id'") }} as order_shipping_line_id,
        element ->> 'id' as order_shipping_line_gid,
        order_id,
        position as shipping_line_position,
        element ->> 'title' as title,
        element ->> 'code' as code,
        element ->> 'source' as source,
        element ->> 'carrierIdentifier' as carrier_identifier,
        coalesce((element ->> 'custom')::boolean, false) as is_custom,
        -- Removed by an order edit: no longer charged.
        coalesce((element ->> 'isRemoved')::boolean, false) as is_removed,
        {{ shopify_money("element -> 'originalPriceSet'") }} as original_price,
        -- After shipping and cart-level discounts (API 2024-07 on, e.g. free shipping codes).
        {{ shopify_money("element -> 'discountedPriceSet'") }} as discounted_price,
        {{ shopify_sum_money("element -> 'taxLines'", 'priceSet') }} as tax_amount,
        order_currency_code as currency_code,
        _sdc_batched_at as _loaded_at
    from shipping_lines
)

select
    *,
    original_price - discounted_price as discount_amount
from renamed
