-- Staging unnested every line item of every order (orders with 250+ lines included): per
-- order, the staged lines are exactly the raw order's lineItems, by count and by GID.
with raw_lines as (
    select orders.source_relation, orders.id as order_gid, line_item.element ->> 'id' as order_line_gid
    from ({{ shopify_current_rows('orders') }}) as orders
    cross join lateral unnest(orders."lineItems") as line_item(element)
),

staged_lines as (
    select orders.source_relation, orders.order_gid, lines.order_line_gid
    from {{ ref('stg_shopify__order_lines') }} as lines
    inner join {{ ref('stg_shopify__orders') }} as orders
        on lines.source_relation = orders.source_relation and lines.order_id = orders.order_id
)

select
    coalesce(raw_lines.source_relation, staged_lines.source_relation) as source_relation,
    coalesce(raw_lines.order_gid, staged_lines.order_gid) as order_gid,
    coalesce(raw_lines.order_line_gid, staged_lines.order_line_gid) as order_line_gid,
    raw_lines.order_line_gid is null as missing_in_raw,
    staged_lines.order_line_gid is null as missing_in_staging
from raw_lines
full outer join staged_lines
    on raw_lines.source_relation = staged_lines.source_relation
    and raw_lines.order_gid = staged_lines.order_gid
    and raw_lines.order_line_gid = staged_lines.order_line_gid
where raw_lines.order_line_gid is null or staged_lines.order_line_gid is null
