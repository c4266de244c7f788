-- The customers mart accounts for every counted order with a customer, once: order counts and
-- lifetime value summed over customers equal those of the orders mart, to the cent.
with from_customers as (
    select sum(order_count) as order_count, sum(lifetime_value) as net_revenue
    from {{ ref('shopify__customers') }}
),

from_orders as (
    select count(*) as order_count, coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('shopify__orders') }}
    where is_counted and customer_id is not null
)

select from_customers.*, from_orders.order_count as orders_order_count, from_orders.net_revenue as orders_net_revenue
from from_customers cross join from_orders
where from_customers.order_count <> from_orders.order_count
    or from_customers.net_revenue <> from_orders.net_revenue
