{#
    The person-like records of every system, one row each, as int_identity__contacts reads them:
    `contact_key`, the fields identity compares, and `input_digest` (an md5 of the row), which
    lets that model recompute only the records that changed (macros/incremental/incremental.sql).
#}
{% macro identity_contact_records() -%}
    select unioned.*, {{ incremental_input_digest('unioned') }} as input_digest
    from (
        select
            case source_system
                when 'quickbooks' then {{ identity_record_key('source_relation', 'quickbooks', 'customer', 'source_id') }}
                when 'attio' then {{ identity_record_key('source_relation', 'attio', 'person', 'source_id') }}
                else {{ identity_record_key('source_relation', 'shopify', 'customer', 'source_id') }}
            end as contact_key,
            {{ business_of('source_relation') }} as business,
            typed.*
        from (
            select
                source_relation,
                'quickbooks' as source_system,
                'customer' as source_object,
                customer_id::text as source_id,
                -- A customer with a CompanyName is the company's account (its e-mail is a contact
                -- there, a hint for the company, not the identity of the record).
                nullif(trim(company_name), '') is not null as is_company_record,
                email as email_typed,
                array_remove(array[email], null) as emails_typed,
                coalesce(
                    nullif(trim(concat_ws(' ', given_name, family_name)), ''), display_name
                ) as full_name,
                array_remove(array[phone], null) as phones_typed,
                nullif(trim(company_name), '') as company_name_hint,
                website as website_hint,
                null::text as attio_company_id,
                created_at as first_seen_at,
                greatest(created_at, updated_at) as last_seen_at
            from {{ ref('stg_quickbooks__customers') }}
            where nullif(trim(company_name), '') is null or nullif(trim(email), '') is not null
        
            union all
        
            select
                source_relation,
                'attio' as source_system,
                'person' as source_object,
                person_id as source_id,
                false as is_company_record,
                primary_email as email_typed,
                email_addresses as emails_typed,
                full_name,
                coalesce(phone_numbers, '{}'::text[]) as phones_typed,
                null as company_name_hint,
                null as website_hint,
                company_id as attio_company_id,
                created_at as first_seen_at,
                greatest(created_at, last_interaction_at) as last_seen_at
            from {{ ref('stg_attio__people') }}
        
            union all
        
            select
                source_relation,
                'shopify' as source_system,
                'customer' as source_object,
                customer_id::text as source_id,
                false as is_company_record,
                email as email_typed,
                array_remove(array[email], null) as emails_typed,
                coalesce(nullif(trim(concat_ws(' ', first_name, last_name)), ''), display_name) as full_name,
                array_remove(array[phone], null) as phones_typed,
                null as company_name_hint,
                null as website_hint,
                null as attio_company_id,
                created_at as first_seen_at,
                greatest(created_at, updated_at) as last_seen_at
            from {{ ref('stg_shopify__customers') }}
        ) as typed
    ) as unioned
{%- endmacro %}
