with source as (
    {{ ga4_latest_load('devices_countries') }}
),

renamed as (
    select
        source_relation,
        row_key,
        property_id,
        date::date as report_date,
        device_category,
        country,
        sessions::bigint as sessions,
        total_users::bigint as total_users,
        new_users::bigint as new_users,
        engaged_sessions::bigint as engaged_sessions,
        key_events::numeric as key_events,
        total_revenue::numeric as total_revenue,
        {{ ga4_data_loss_and_load_columns() }}
    from source
)

select * from renamed
