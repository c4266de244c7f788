{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'person_id'],
          on_schema_change='fail',
          pre_hook="{{ attio_delete_changed('person_id', [('people', 'record_id')]) }}") }}
with source as (
    {{ attio_changed_rows('people', 'record_id') }}
),

renamed as (
    select
        source_relation,
        record_id as person_id,
        name as full_name,
        name__first_name as first_name,
        name__last_name as last_name,
        -- Attio keeps e-mails in the order they were added; the first is the primary one.
        ({{ attio_lower_array('email_addresses') }})[1] as primary_email,
        {{ attio_lower_array('email_addresses') }} as email_addresses,
        phone_numbers,
        company as company_id,
        job_title,
        description,
        primary_location ->> 'locality' as location_locality,
        primary_location ->> 'country_code' as location_country_code,
        lead_source,
        newsletter_opt_in as is_newsletter_opt_in,
        lifetime_value,
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
