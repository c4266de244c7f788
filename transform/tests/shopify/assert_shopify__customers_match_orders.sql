-- The customers mart accounts for every counted order with a customer, once: order counts and
-- lifetime value summed over each shop's customers equal those of its orders, to the cent.
with from_customers as (
    select source_relation, sum(order_count) as order_count, sum(lifetime_value) as net_revenue
    from {{ ref('shopify__customers') }}
    group by source_relation
),

from_orders as (
    select source_relation, count(*) as order_count, coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('shopify__orders') }}
    where is_counted and customer_id is not null
    group by source_relation
)

select
    coalesce(from_customers.source_relation, from_orders.source_relation) as source_relation,
    from_customers.order_count,
    from_customers.net_revenue,
    from_orders.order_count as orders_order_count,
    from_orders.net_revenue as orders_net_revenue
from from_customers
full outer join from_orders on from_customers.source_relation = from_orders.source_relation
where from_customers.order_count is distinct from coalesce(from_orders.order_count, 0)
    or from_customers.net_revenue is distinct from coalesce(from_orders.net_revenue, 0)
