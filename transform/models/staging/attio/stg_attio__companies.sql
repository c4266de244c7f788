{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'company_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('company_id', [('companies', 'record_id')]) }}") }}
with source as (
    {{ attio_changed_rows('companies', 'record_id') }}
),

renamed as (
    select
        source_relation,
        record_id as company_id,
        name as company_name,
        -- Attio lists a company's domains in the order they were added; the first is the main one.
        ({{ attio_lower_array('domains') }})[1] as primary_domain,
        {{ attio_lower_array('domains') }} as domains,
        description,
        categories,
        employee_range,
        customer_tier,
        health_score,
        arr as arr_value,
        arr__currency_code as arr_currency_code,
        foundation_date,
        primary_location ->> 'locality' as location_locality,
        primary_location ->> 'country_code' as location_country_code,
        team as team_person_ids,
        twitter,
        {{ attio_utc('last_interaction') }} as last_interaction_at,
        last_interaction__interaction_type as last_interaction_type,
        created_by as created_by_actor_id,
        created_by__actor_type as created_by_actor_type,
        web_url,
        {{ attio_utc('created_at') }} as created_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
