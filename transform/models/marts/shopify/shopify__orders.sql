-- One row per order: what was sold, discounted, charged and refunded, and whether it was the
-- customer's first order.
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

order_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

shipping_lines as (
    select * from {{ ref('stg_shopify__order_shipping_lines') }}
),

refunds as (
    select * from {{ ref('stg_shopify__refunds') }}
),

lines_per_order as (
    select
        source_relation,
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(original_total) as gross_sales,
        sum(discount_amount) as line_discounts
    from order_lines
    group by source_relation, order_id
),

shipping_per_order as (
    select
        source_relation,
        order_id,
        sum(discount_amount) filter (where not is_removed) as shipping_discounts
    from shipping_lines
    group by source_relation, order_id
),

refunds_per_order as (
    select
        source_relation,
        order_id,
        count(*) as refund_count,
        min(created_at) as first_refunded_at
    from refunds
    group by source_relation, order_id
),

enriched as (
    select
        orders.source_relation,
        orders.order_id,
        orders.order_gid,
        orders.order_name,
        orders.order_number,
        orders.customer_id,
        orders.email,
        orders.created_at,
        orders.processed_at,
        orders.cancelled_at,
        orders.financial_status,
        orders.fulfillment_status,
        orders.is_cancelled,
        orders.is_test,
        -- Test and cancelled orders are kept, but left out of customers' and products' figures.
        not (orders.is_test or orders.is_cancelled) as is_counted,
        orders.source_name,
        orders.discount_codes,
        orders.is_taxes_included,
        coalesce(lines_per_order.line_count, 0) as line_count,
        coalesce(lines_per_order.units, 0) as units,
        coalesce(lines_per_order.gross_sales, 0) as gross_sales,
        coalesce(lines_per_order.line_discounts, 0) as line_discounts,
        coalesce(shipping_per_order.shipping_discounts, 0) as shipping_discounts,
        orders.total_discounts,
        -- Sales after discounts on the items (Shopify's subtotal).
        coalesce(lines_per_order.gross_sales, 0) - coalesce(lines_per_order.line_discounts, 0) as net_sales,
        orders.total_shipping as shipping,
        orders.total_tax as tax,
        orders.total_price,
        coalesce(refunds_per_order.refund_count, 0) as refund_count,
        refunds_per_order.first_refunded_at,
        orders.total_refunded as refunds,
        orders.total_price - orders.total_refunded as net_revenue,
        orders.currency_code,
        orders.updated_at
    from orders
    left join lines_per_order
        on orders.source_relation = lines_per_order.source_relation and orders.order_id = lines_per_order.order_id
    left join shipping_per_order
        on orders.source_relation = shipping_per_order.source_relation and orders.order_id = shipping_per_order.order_id
    left join refunds_per_order
        on orders.source_relation = refunds_per_order.source_relation and orders.order_id = refunds_per_order.order_id
),

sequenced as (
    select
        enriched.*,
        -- The n-th counted order of the customer, by when it was placed (processed_at); ties
        -- in the same second go to the lower order id. Guest orders have no sequence. The
        -- second partition key keeps uncounted orders from taking numbers.
        case when is_counted and customer_id is not null then
            row_number() over (
                partition by source_relation, customer_id, (is_counted and customer_id is not null)
                order by processed_at, order_id
            )
        end as customer_order_sequence
    from enriched
)

select
    source_relation,
    order_id,
    order_gid,
    order_name,
    order_number,
    customer_id,
    email,
    created_at,
    processed_at,
    cancelled_at,
    financial_status,
    fulfillment_status,
    is_cancelled,
    is_test,
    is_counted,
    customer_order_sequence,
    coalesce(customer_order_sequence = 1, false) as is_first_order,
    source_name,
    discount_codes,
    is_taxes_included,
    line_count,
    units,
    gross_sales,
    line_discounts,
    shipping_discounts,
    total_discounts,
    net_sales,
    shipping,
    tax,
    total_price,
    refund_count,
    first_refunded_at,
    refunds,
    net_revenue,
    currency_code,
    updated_at
from sequenced
