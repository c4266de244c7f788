{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'task_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('task_id', [('tasks', 'task_id')]) }}") }}
with source as (
    {{ attio_changed_rows('tasks', 'task_id') }}
),

renamed as (
    select
        source_relation,
        task_id,
        content_plaintext,
        {{ attio_utc('deadline_at') }} as deadline_at,
        coalesce(is_completed, false) as is_completed,
        {{ attio_utc('completed_at') }} as completed_at,
        array(
            select linked.item ->> 'target_record_id'
            from unnest(linked_records) as linked(item)
        ) as linked_record_ids,
        array(
            select assignee.item ->> 'referenced_actor_id'
            from unnest(assignees) as assignee(item)
            where assignee.item ->> 'referenced_actor_type' = 'workspace-member'
        ) as assignee_workspace_member_ids,
        created_by_actor ->> 'type' as created_by_actor_type,
        created_by_actor ->> 'id' as created_by_actor_id,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
