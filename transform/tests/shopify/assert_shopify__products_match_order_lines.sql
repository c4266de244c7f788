-- The products mart accounts for every line of a counted order and every refunded item of
-- one, to the cent: its units, gross and net sales and refunds, summed over products, equal
-- the staged lines' (lines without a product, such as custom items, are in no product's row).
with from_products as (
    select
        sum(units_sold) as units_sold,
        sum(gross_sales) as gross_sales,
        sum(net_sales) as net_sales,
        sum(refunds) as refunds
    from {{ ref('shopify__products') }}
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

from_lines as (
    select
        coalesce(sum(quantity), 0) as units_sold,
        coalesce(sum(original_total), 0) as gross_sales,
        coalesce(sum(discounted_total), 0) as net_sales,
        (
            select coalesce(sum(refund_lines.subtotal), 0)
            from {{ ref('stg_shopify__refund_lines') }} as refund_lines
            where (refund_lines.source_relation, refund_lines.order_line_id)
                in (select source_relation, order_line_id from counted_lines)
        ) as refunds
    from counted_lines
)

select from_products.*, from_lines.units_sold as lines_units_sold, from_lines.gross_sales as lines_gross_sales,
    from_lines.net_sales as lines_net_sales, from_lines.refunds as lines_refunds
from from_products cross join from_lines
where from_products.units_sold <> from_lines.units_sold
    or from_products.gross_sales <> from_lines.gross_sales
    or from_products.net_sales <> from_lines.net_sales
    or from_products.refunds <> from_lines.refunds
