-- The order's tax lines: one per tax (title and rate), summed over its items and shipping.
with tax_lines as (
    {{ shopify_order_elements('taxLines') }}
),

renamed as (
    select
        source_relation,
        order_id,
        position as tax_line_position,
        element ->> 'title' as title,
        (element ->> 'rate')::numeric as rate,
        (element ->> 'ratePercentage')::numeric as rate_percentage,
        {{ shopify_money("element -> 'priceSet'") }} as tax_amount,
        -- A marketplace or channel collects and remits this tax, not the shop.
        coalesce((element ->> 'channelLiable')::boolean, false) as is_channel_liable,
        order_currency_code as currency_code,
        _sdc_batched_at as _loaded_at
    from tax_lines
)

select * from renamed
