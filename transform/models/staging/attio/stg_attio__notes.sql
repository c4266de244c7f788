{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'note_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('note_id', [('notes', 'note_id')]) }}") }}
with source as (
    {{ attio_changed_rows('notes', 'note_id') }}
),

renamed as (
    select
        source_relation,
        note_id,
        parent_object,
        parent_record_id,
        title,
        content_plaintext,
        content_markdown,
        meeting_id,
        coalesce(cardinality(tags), 0) as tag_count,
        created_by_actor ->> 'type' as created_by_actor_type,
        created_by_actor ->> 'id' as created_by_actor_id,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
