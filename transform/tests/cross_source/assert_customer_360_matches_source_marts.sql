-- customer_360 neither loses nor double-counts: its shop and invoice figures, summed over all
-- customers, equal the source marts' totals over the records the identity map knows (counted
-- orders of mapped Shopify customers; invoices of mapped QuickBooks customers), to the cent.
-- A record mapped to two customers, or a join fanning out, shows up here as a difference.
with customer_360 as (
    select
        sum(shopify_order_count) as shopify_order_count,
        sum(shopify_lifetime_revenue) as shopify_revenue,
        sum(quickbooks_invoice_count) as quickbooks_invoice_count,
        sum(quickbooks_invoiced_amount) as quickbooks_invoiced_amount,
        sum(quickbooks_open_balance) as quickbooks_open_balance
    from {{ ref('customer_360') }}
),

mapped as (
    select * from {{ ref('int_identity__customer_map') }}
),

shop as (
    select count(*) as shopify_order_count, coalesce(sum(net_revenue), 0) as shopify_revenue
    from {{ ref('shopify__orders') }}
    where is_counted
        and (source_relation, customer_id::text) in (select source_relation, source_id from mapped where source_system = 'shopify')
),

books as (
    select
        count(*) as quickbooks_invoice_count,
        coalesce(sum(total_amount), 0) as quickbooks_invoiced_amount,
        coalesce(sum(balance), 0) as quickbooks_open_balance
    from {{ ref('quickbooks__invoices') }}
    where (source_relation, customer_id::text) in (select source_relation, source_id from mapped where source_system = 'quickbooks')
),

compared as (
    select 'shopify_order_count' as figure, c.shopify_order_count as in_customer_360, s.shopify_order_count as in_source
    from customer_360 as c cross join shop as s
    union all
    select 'shopify_revenue', c.shopify_revenue, s.shopify_revenue from customer_360 as c cross join shop as s
    union all
    select 'quickbooks_invoice_count', c.quickbooks_invoice_count, b.quickbooks_invoice_count from customer_360 as c cross join books as b
    union all
    select 'quickbooks_invoiced_amount', c.quickbooks_invoiced_amount, b.quickbooks_invoiced_amount from customer_360 as c cross join books as b
    union all
    select 'quickbooks_open_balance', c.quickbooks_open_balance, b.quickbooks_open_balance from customer_360 as c cross join books as b
)

select *
from compared
where in_customer_360 is distinct from in_source
