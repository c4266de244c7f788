with source as (
    {{ ga4_latest_load('events') }}
),

renamed as (
    select
        source_relation,
        row_key,
        property_id,
        date::date as report_date,
        event_name,
        event_count::bigint as event_count,
        total_users::bigint as total_users,
        {{ ga4_data_loss_and_load_columns() }}
    from source
)

select * from renamed
