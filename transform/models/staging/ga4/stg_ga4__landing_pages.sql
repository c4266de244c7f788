with source as (
    {{ ga4_latest_load('landing_pages') }}
),

renamed as (
    select
        source_relation,
        row_key,
        property_id,
        date::date as report_date,
        landing_page,
        sessions::bigint as sessions,
        total_users::bigint as total_users,
        new_users::bigint as new_users,
        engaged_sessions::bigint as engaged_sessions,
        screen_page_views::bigint as screen_page_views,
        key_events::numeric as key_events,
        total_revenue::numeric as total_revenue,
        {{ ga4_data_loss_and_load_columns() }}
    from source
)

select * from renamed
