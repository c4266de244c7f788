-- Deletions reported by QuickBooks' change-data-capture: one row per deleted entity of each company.
with source as (
    select
        *,
        row_number() over (
            partition by source_relation, "Type", "Id"
            order by ("MetaData" ->> 'LastUpdatedTime')::timestamptz desc nulls last, _sdc_batched_at desc
        ) as row_rank
    from ({{ instance_rows('quickbooks', 'deleted_objects') }}) as deleted
),

renamed as (
    select
        source_relation,
        "Type" || ':' || "Id" as deleted_object_id,
        "Type" as entity_type,
        "Id" as entity_id,
        {{ quickbooks_timestamp("\"MetaData\" ->> 'LastUpdatedTime'") }} as deleted_at,
        _sdc_batched_at as _loaded_at
    from source
    where row_rank = 1
)

select * from renamed
