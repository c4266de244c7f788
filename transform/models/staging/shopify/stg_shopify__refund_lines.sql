-- The items of each refund (refunds[].refundLineItems, a jsonb array inside the jsonb[]).
with refunds as (
    {{ shopify_order_elements('refunds') }}
),

refund_line_items as (
    select
        refunds.source_relation,
        refunds.order_id,
        refunds.element ->> 'id' as refund_gid,
        refunds.order_currency_code,
        refunds._sdc_batched_at,
        item.position::integer as position,
        item.element
    from refunds
    cross join lateral jsonb_array_elements(
        coalesce(refunds.element -> 'refundLineItems', '[]'::jsonb)
    ) with ordinality as item(element, position)
),

renamed as (
    select
        source_relation,
        {{ shopify_gid_to_id("element ->> 'id'") }} as refund_line_id,
        element ->> 'id' as refund_line_gid,
        {{ shopify_gid_to_id('refund_gid') }} as refund_id,
        order_id,
        {{ shopify_gid_to_id("element -> 'lineItem' ->> 'id'") }} as order_line_id,
        position as refund_line_position,
        (element ->> 'quantity')::integer as quantity,
        element ->> 'restockType' as restock_type,
        coalesce((element ->> 'restocked')::boolean, false) as is_restocked,
        -- The unit price the customer paid (after discounts), and that times quantity.
        {{ shopify_money("element -> 'priceSet'") }} as unit_price,
        {{ shopify_money("element -> 'subtotalSet'") }} as subtotal,
        {{ shopify_money("element -> 'totalTaxSet'") }} as tax_amount,
        order_currency_code as currency_code,
        _sdc_batched_at as _loaded_at
    from refund_line_items
)

select * from renamed
