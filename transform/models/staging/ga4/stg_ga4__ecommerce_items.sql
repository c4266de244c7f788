with source as (
    {{ ga4_latest_load('ecommerce_items') }}
),

renamed as (
    select
        source_relation,
        row_key,
        property_id,
        date::date as report_date,
        item_id,
        item_name,
        items_purchased::bigint as items_purchased,
        item_revenue::numeric as item_revenue,
        {{ ga4_data_loss_and_load_columns() }}
    from source
)

select * from renamed
