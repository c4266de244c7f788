-- Deletions reported by QuickBooks' change-data-capture: one row per deleted entity.
with source as (
    select
        *,
        row_number() over (
            partition by "Type", "Id"
            order by ("MetaData" ->> 'LastUpdatedTime')::timestamptz desc nulls last, _sdc_batched_at desc
        ) as row_rank
    from {{ source('quickbooks', 'deleted_objects') }}
),

renamed as (
    select
        "Type" || ':' || "Id" as deleted_object_id,
        "Type" as entity_type,
        "Id" as entity_id,
        {{ quickbooks_timestamp("\"MetaData\" ->> 'LastUpdatedTime'") }} as deleted_at,
        _sdc_batched_at as _loaded_at
    from source
    where row_rank = 1
)

select * from renamed
