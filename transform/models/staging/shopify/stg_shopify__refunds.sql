with refunds as (
    {{ shopify_order_elements('refunds') }}
),

renamed as (
    select
        source_relation,
        {{ shopify_gid_to_id("element ->> 'id'") }} as refund_id,
        element ->> 'id' as refund_gid,
        order_id,
        position as refund_position,
        element ->> 'note' as note,
        -- What was paid back: refunded items and their tax, shipping, order adjustments.
        {{ shopify_money("element -> 'totalRefundedSet'") }} as total_refunded,
        jsonb_array_length(coalesce(element -> 'refundLineItems', '[]'::jsonb)) as refund_line_count,
        order_currency_code as currency_code,
        {{ shopify_json_timestamp("element ->> 'createdAt'") }} as created_at,
        {{ shopify_json_timestamp("element ->> 'updatedAt'") }} as updated_at,
        _sdc_batched_at as _loaded_at
    from refunds
)

select * from renamed
