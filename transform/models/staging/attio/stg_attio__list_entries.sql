{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'entry_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('entry_id', [('list_entries_sales_pipeline', 'entry_id'), ('list_entries_key_accounts', 'entry_id')]) }}") }}
-- One row per entry of every Attio list. Each list is its own raw table with its own attribute
-- columns; the common columns line up and each list's attributes are null on the other's rows.
-- A new list needs its own block here and its table in the pre-hook above (its raw table appears
-- after the next load).
with sales_pipeline as (
    {{ attio_changed_rows('list_entries_sales_pipeline', 'entry_id') }}
),

key_accounts as (
    {{ attio_changed_rows('list_entries_key_accounts', 'entry_id') }}
),

unioned as (
    select
        source_relation,
        entry_id,
        list_id,
        list_slug,
        parent_object,
        parent_record_id,
        stage,
        priority,
        next_step,
        expected_close as expected_close_date,
        null::text as account_owner_workspace_member_id,
        null::text as tier,
        null::date as renewal_date,
        entry_values,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from sales_pipeline

    union all

    select
        source_relation,
        entry_id,
        list_id,
        list_slug,
        parent_object,
        parent_record_id,
        null::text as stage,
        null::text as priority,
        null::text as next_step,
        null::date as expected_close_date,
        case when account_owner__actor_type = 'workspace-member' then account_owner end
            as account_owner_workspace_member_id,
        tier,
        renewal_date,
        entry_values,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from key_accounts
)

select * from unioned
