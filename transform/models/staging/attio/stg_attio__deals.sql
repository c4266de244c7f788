{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'deal_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('deal_id', [('deals', 'record_id')]) }}") }}
with source as (
    {{ attio_changed_rows('deals', 'record_id') }}
),

renamed as (
    select
        source_relation,
        record_id as deal_id,
        name as deal_name,
        stage,
        -- The typed column holds only the current stage; when the deal entered it is in the
        -- raw history, on the value whose active_until is null.
        {{ attio_current_value_since('stage') }} as stage_entered_at,
        value as deal_value,
        value__currency_code as currency_code,
        owner as owner_actor_id,
        owner__actor_type as owner_actor_type,
        case when owner__actor_type = 'workspace-member' then owner end as owner_workspace_member_id,
        associated_company as associated_company_id,
        coalesce(associated_people, '{}'::text[]) as associated_person_ids,
        close_date,
        created_by as created_by_actor_id,
        created_by__actor_type as created_by_actor_type,
        web_url,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
