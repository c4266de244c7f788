-- The orders mart holds every staged order once, with the same totals to the cent, and its
-- line figures equal the staged lines'.
with lines as (
    select source_relation, order_id, count(*) as line_count, sum(original_total) as gross_sales
    from {{ ref('stg_shopify__order_lines') }}
    group by source_relation, order_id
)

select
    coalesce(mart.source_relation, staged.source_relation) as source_relation,
    coalesce(mart.order_id, staged.order_id) as order_id,
    mart.order_id is null as missing_in_mart,
    staged.order_id is null as missing_in_staging
from {{ ref('shopify__orders') }} as mart
full outer join {{ ref('stg_shopify__orders') }} as staged
    on mart.source_relation = staged.source_relation and mart.order_id = staged.order_id
left join lines on staged.source_relation = lines.source_relation and staged.order_id = lines.order_id
where mart.order_id is null
    or staged.order_id is null
    or mart.total_price <> staged.total_price
    or mart.refunds <> staged.total_refunded
    or mart.total_discounts <> staged.total_discounts
    or mart.shipping <> staged.total_shipping
    or mart.tax <> staged.total_tax
    or mart.net_sales <> staged.subtotal_price
    or mart.line_count <> coalesce(lines.line_count, 0)
    or mart.line_count <> coalesce(staged.line_count, 0)
    or mart.gross_sales <> coalesce(lines.gross_sales, 0)
