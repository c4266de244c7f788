with source as (
    {{ ga4_latest_load('traffic_acquisition') }}
),

renamed as (
    select
        source_relation,
        row_key,
        property_id,
        date::date as report_date,
        session_source,
        session_medium,
        session_campaign_name,
        session_default_channel_group,
        sessions::bigint as sessions,
        total_users::bigint as total_users,
        new_users::bigint as new_users,
        engaged_sessions::bigint as engaged_sessions,
        key_events::numeric as key_events,
        ecommerce_purchases::bigint as ecommerce_purchases,
        total_revenue::numeric as total_revenue,
        {{ ga4_data_loss_and_load_columns() }}
    from source
)

select * from renamed
