-- One row per product: units sold and refunded, sales, discounts and refunds over counted
-- orders (not test, not cancelled), and the stock on hand over all locations. Per shop
-- (source_relation): ids repeat across shops.
with products as (
    select * from {{ ref('stg_shopify__products') }}
),

variants as (
    select * from {{ ref('stg_shopify__product_variants') }}
),

inventory_levels as (
    select * from {{ ref('stg_shopify__inventory_levels') }}
),

order_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

refund_lines as (
    select * from {{ ref('stg_shopify__refund_lines') }}
),

orders as (
    select * from {{ ref('shopify__orders') }}
),

counted_lines as (
    select order_lines.*, orders.processed_at
    from order_lines
    inner join orders
        on order_lines.source_relation = orders.source_relation and order_lines.order_id = orders.order_id
    where orders.is_counted
),

sales_per_product as (
    select
        source_relation,
        product_id,
        count(distinct order_id) as order_count,
        sum(quantity) as units_sold,
        sum(original_total) as gross_sales,
        sum(discount_amount) as discounts,
        sum(discounted_total) as net_sales,
        min(processed_at) as first_ordered_at,
        max(processed_at) as last_ordered_at
    from counted_lines
    group by source_relation, product_id
),

-- A refund line names the order line it refunds; the product is that line's.
refunds_per_product as (
    select
        counted_lines.source_relation,
        counted_lines.product_id,
        sum(refund_lines.quantity) as units_refunded,
        sum(refund_lines.subtotal) as refunds
    from refund_lines
    inner join counted_lines
        on refund_lines.source_relation = counted_lines.source_relation
        and refund_lines.order_line_id = counted_lines.order_line_id
    group by counted_lines.source_relation, counted_lines.product_id
),

stock_per_product as (
    select
        variants.source_relation,
        variants.product_id,
        count(distinct variants.variant_id) as variant_count,
        sum(inventory_levels.on_hand_quantity) as inventory_on_hand,
        sum(inventory_levels.available_quantity) as inventory_available
    from variants
    left join inventory_levels
        on variants.source_relation = inventory_levels.source_relation
        and variants.inventory_item_id = inventory_levels.inventory_item_id
    group by variants.source_relation, variants.product_id
)

select
    products.source_relation,
    products.product_id,
    products.product_gid,
    products.product_title,
    products.handle,
    products.vendor,
    products.product_type,
    products.status,
    coalesce(stock_per_product.variant_count, 0) as variant_count,
    coalesce(sales_per_product.order_count, 0) as order_count,
    coalesce(sales_per_product.units_sold, 0) as units_sold,
    coalesce(refunds_per_product.units_refunded, 0) as units_refunded,
    coalesce(sales_per_product.gross_sales, 0) as gross_sales,
    coalesce(sales_per_product.discounts, 0) as discounts,
    coalesce(sales_per_product.net_sales, 0) as net_sales,
    -- Refunded item amounts (what was paid for them, without tax or shipping).
    coalesce(refunds_per_product.refunds, 0) as refunds,
    coalesce(sales_per_product.net_sales, 0) - coalesce(refunds_per_product.refunds, 0) as net_sales_after_refunds,
    sales_per_product.first_ordered_at,
    sales_per_product.last_ordered_at,
    coalesce(stock_per_product.inventory_on_hand, 0) as inventory_on_hand,
    coalesce(stock_per_product.inventory_available, 0) as inventory_available,
    products.total_inventory as shopify_total_inventory,
    products.is_inventory_tracked,
    products.created_at,
    products.published_at,
    products.updated_at
from products
left join sales_per_product
    on products.source_relation = sales_per_product.source_relation and products.product_id = sales_per_product.product_id
left join refunds_per_product
    on products.source_relation = refunds_per_product.source_relation and products.product_id = refunds_per_product.product_id
left join stock_per_product
    on products.source_relation = stock_per_product.source_relation and products.product_id = stock_per_product.product_id
