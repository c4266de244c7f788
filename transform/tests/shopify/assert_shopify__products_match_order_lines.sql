-- The products mart accounts for every line of a counted order and every refunded item of
-- one, to the cent, shop by shop: its units, gross and net sales and refunds, summed over a
-- shop's products, equal that shop's staged lines' (lines without a product, such as custom
-- items, are in no product's row).
with from_products as (
    select
        source_relation,
        sum(units_sold) as units_sold,
        sum(gross_sales) as gross_sales,
        sum(net_sales) as net_sales,
        sum(refunds) as refunds
    from {{ ref('shopify__products') }}
    group by source_relation
),

counted_lines as (
    select lines.*
    from {{ ref('stg_shopify__order_lines') }} as lines
    inner join {{ ref('shopify__orders') }} as orders
        on lines.source_relation = orders.source_relation and lines.order_id = orders.order_id
    inner join {{ ref('stg_shopify__products') }} as products
        on lines.source_relation = products.source_relation and lines.product_id = products.product_id
    where orders.is_counted
),

refunded as (
    select refund_lines.source_relation, sum(refund_lines.subtotal) as refunds
    from {{ ref('stg_shopify__refund_lines') }} as refund_lines
    where (refund_lines.source_relation, refund_lines.order_line_id)
        in (select source_relation, order_line_id from counted_lines)
    group by refund_lines.source_relation
),

from_lines as (
    select
        source_relation,
        sum(quantity) as units_sold,
        sum(original_total) as gross_sales,
        sum(discounted_total) as net_sales
    from counted_lines
    group by source_relation
)

select
    coalesce(from_products.source_relation, from_lines.source_relation) as source_relation,
    from_products.units_sold, from_products.gross_sales, from_products.net_sales, from_products.refunds,
    from_lines.units_sold as lines_units_sold, from_lines.gross_sales as lines_gross_sales,
    from_lines.net_sales as lines_net_sales, coalesce(refunded.refunds, 0) as lines_refunds
from from_products
full outer join from_lines on from_products.source_relation = from_lines.source_relation
left join refunded on refunded.source_relation = coalesce(from_products.source_relation, from_lines.source_relation)
where coalesce(from_products.units_sold, 0) <> coalesce(from_lines.units_sold, 0)
    or coalesce(from_products.gross_sales, 0) <> coalesce(from_lines.gross_sales, 0)
    or coalesce(from_products.net_sales, 0) <> coalesce(from_lines.net_sales, 0)
    or coalesce(from_products.refunds, 0) <> coalesce(refunded.refunds, 0)
