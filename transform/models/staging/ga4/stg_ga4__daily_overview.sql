-- Property totals per day: the figures the other reports' sums are checked against.
with source as (
    {{ ga4_latest_load('daily_overview') }}
),

renamed as (
    select
        source_relation,
        row_key,
        property_id,
        date::date as report_date,
        sessions::bigint as sessions,
        total_users::bigint as total_users,
        new_users::bigint as new_users,
        active_users::bigint as active_users,
        screen_page_views::bigint as screen_page_views,
        engaged_sessions::bigint as engaged_sessions,
        user_engagement_duration::numeric as user_engagement_seconds,
        key_events::numeric as key_events,
        ecommerce_purchases::bigint as ecommerce_purchases,
        total_revenue::numeric as total_revenue,
        {{ ga4_data_loss_and_load_columns() }}
    from source
)

select * from renamed
