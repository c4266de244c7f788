-- One row per customer: when and how often they ordered, what they are worth, and whether we
-- may e-mail or text them.
with customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

orders as (
    select * from {{ ref('shopify__orders') }}
),

orders_per_customer as (
    select
        source_relation,
        customer_id,
        count(*) as order_count,
        min(processed_at) as first_order_at,
        max(processed_at) as last_order_at,
        sum(units) as units,
        sum(gross_sales) as gross_sales,
        sum(total_discounts) as discounts,
        sum(net_sales) as net_sales,
        sum(total_price) as total_price,
        sum(refunds) as refunds,
        sum(net_revenue) as net_revenue
    from orders
    where is_counted
        and customer_id is not null
    group by source_relation, customer_id
)

select
    customers.source_relation,
    customers.customer_id,
    customers.customer_gid,
    customers.email,
    customers.first_name,
    customers.last_name,
    customers.display_name,
    customers.account_state,
    customers.created_at,
    orders_per_customer.first_order_at,
    orders_per_customer.last_order_at,
    coalesce(orders_per_customer.order_count, 0) as order_count,
    coalesce(orders_per_customer.units, 0) as units,
    coalesce(orders_per_customer.gross_sales, 0) as gross_sales,
    coalesce(orders_per_customer.discounts, 0) as discounts,
    coalesce(orders_per_customer.net_sales, 0) as net_sales,
    coalesce(orders_per_customer.total_price, 0) as total_price,
    coalesce(orders_per_customer.refunds, 0) as refunds,
    -- Net revenue of every counted order: what the customer paid, less what was refunded.
    coalesce(orders_per_customer.net_revenue, 0) as lifetime_value,
    round(orders_per_customer.net_revenue / nullif(orders_per_customer.order_count, 0), 2) as average_order_value,
    customers.email_marketing_state,
    customers.is_email_marketing_subscribed,
    customers.sms_marketing_state,
    customers.is_sms_marketing_subscribed,
    customers.country_code,
    customers.province_code,
    customers.shopify_order_count,
    customers.shopify_amount_spent,
    customers.currency_code,
    customers.updated_at
from customers
left join orders_per_customer
    on customers.source_relation = orders_per_customer.source_relation
    and customers.customer_id = orders_per_customer.customer_id
