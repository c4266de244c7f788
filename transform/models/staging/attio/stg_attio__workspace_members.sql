{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'workspace_member_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('workspace_member_id', [('workspace_members', 'workspace_member_id')]) }}") }}
with source as (
    {{ attio_changed_rows('workspace_members', 'workspace_member_id') }}
),

renamed as (
    select
        source_relation,
        workspace_member_id,
        first_name,
        last_name,
        nullif(concat_ws(' ', nullif(trim(first_name), ''), nullif(trim(last_name), '')), '') as full_name,
        lower(trim(email_address)) as email,
        access_level,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
