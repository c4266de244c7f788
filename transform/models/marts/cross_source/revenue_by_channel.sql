-- One row per business, day and GA4 default channel group (a business's properties against its
-- shops, macros/instances.sql): GA4's sessions, purchases and revenue, and the
-- day's Shopify orders attributed to the channel. The GA4 reports loaded are aggregates (no
-- transactionId dimension), so orders are tied to channels per day: GA4's purchases of a
-- channel are that many of the day's Shopify orders, and Shopify's revenue is split by GA4's
-- revenue share. Each day also says whether GA4's purchases and revenue equal the shop's (they
-- should: every GA4 purchase is a Shopify order; GA4 restates its last ~3 days, and late
-- cancellations / test orders are the usual differences).
with traffic as (
    select * from {{ ref('ga4__traffic_daily') }}
),

orders as (
    select * from {{ ref('shopify__orders') }}
    where not is_test
),

ga4_channel_days as (
    select
        {{ business_of('source_relation') }} as business,
        report_date,
        session_default_channel_group as channel,
        sum(sessions) as sessions,
        sum(ecommerce_purchases) as ga4_purchases,
        sum(total_revenue) as ga4_revenue
    from traffic
    group by 1, 2, 3
),

ga4_days as (
    select business, report_date, sum(ga4_purchases) as ga4_day_purchases, sum(ga4_revenue) as ga4_day_revenue
    from ga4_channel_days
    group by 1, 2
),

shop_days as (
    select
        {{ business_of('source_relation') }} as business,
        {{ cross_source_business_date('created_at') }} as report_date,
        count(*) as shopify_day_orders,
        sum(total_price) as shopify_day_revenue,
        sum(net_revenue) as shopify_day_net_revenue
    from orders
    group by 1, 2
)

select
    ga4_channel_days.business,
    ga4_channel_days.report_date,
    ga4_channel_days.channel,
    ga4_channel_days.sessions,
    ga4_channel_days.ga4_purchases,
    ga4_channel_days.ga4_revenue,
    case when ga4_channel_days.sessions > 0
        then ga4_channel_days.ga4_purchases::numeric / ga4_channel_days.sessions end as conversion_rate,
    case when ga4_days.ga4_day_revenue > 0
        then ga4_channel_days.ga4_revenue / ga4_days.ga4_day_revenue end as channel_revenue_share,
    round(coalesce(shop_days.shopify_day_revenue, 0)
        * coalesce(ga4_channel_days.ga4_revenue / nullif(ga4_days.ga4_day_revenue, 0), 0), 2) as shopify_revenue_attributed,
    round(coalesce(shop_days.shopify_day_net_revenue, 0)
        * coalesce(ga4_channel_days.ga4_revenue / nullif(ga4_days.ga4_day_revenue, 0), 0), 2) as shopify_net_revenue_attributed,
    ga4_days.ga4_day_purchases,
    coalesce(shop_days.shopify_day_orders, 0) as shopify_day_orders,
    ga4_days.ga4_day_revenue,
    coalesce(shop_days.shopify_day_revenue, 0) as shopify_day_revenue,
    ga4_days.ga4_day_purchases = coalesce(shop_days.shopify_day_orders, 0)
        and abs(ga4_days.ga4_day_revenue - coalesce(shop_days.shopify_day_revenue, 0)) < 0.01 as is_day_reconciled
from ga4_channel_days
inner join ga4_days
    on ga4_channel_days.business = ga4_days.business and ga4_channel_days.report_date = ga4_days.report_date
left join shop_days
    on ga4_channel_days.business = shop_days.business and ga4_channel_days.report_date = shop_days.report_date
