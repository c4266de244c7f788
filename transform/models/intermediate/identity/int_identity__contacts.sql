{{ require_one_instance(['shopify']) }}
-- Every person-like record of every system, one row each, with the keys identity resolution
-- compares: QuickBooks customers that are individuals or carry an e-mail, Attio people, Shopify
-- customers. Company hints (the e-mail's company domain, the CRM's company, QuickBooks'
-- CompanyName) travel along; deciding what they mean is left to the later models.
{{ config(materialized='table') }}

with quickbooks_customers as (
    select * from {{ ref('stg_quickbooks__customers') }}
),

attio_people as (
    select * from {{ ref('stg_attio__people') }}
),

shopify_customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

unioned as (
    select
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
    from quickbooks_customers
    where nullif(trim(company_name), '') is null or nullif(trim(email), '') is not null

    union all

    select
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
    from attio_people

    union all

    select
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
    from shopify_customers
),

-- Materialised: every key below is an expression over the typed e-mail (regular expressions,
-- sub-selects). Inlined into the final select, `email_domain` was recomputed for each of the
-- personal_email_domains rows the `exists` checks scan: 21.6 s for 158k contacts at 1M source
-- records, 6.5 s computed once (bench/RESULTS.md).
keyed as materialized (
    select
        source_system || ':' || source_object || ':' || source_id as contact_key,
        source_system,
        source_object,
        source_id,
        is_company_record,
        {{ identity_email_lowered('email_typed') }} as email,
        {{ identity_normalised_email('email_typed') }} as email_normalised,
        -- every address of every e-mail field (one QuickBooks field can hold several)
        array(
            select distinct found.address
            from unnest(emails_typed) as typed(field)
            cross join lateral unnest({{ identity_email_addresses('typed.field') }}) as found(address)
            order by found.address
        ) as emails,
        array(
            select distinct {{ identity_normalised_email('found.address') }}
            from unnest(emails_typed) as typed(field)
            cross join lateral unnest({{ identity_email_addresses('typed.field') }}) as found(address)
            where {{ identity_normalised_email('found.address') }} is not null
            order by 1
        ) as emails_normalised,
        {{ identity_email_domain('email_typed') }} as email_domain,
        full_name,
        array(
            select distinct {{ identity_phone_key('typed.phone') }}
            from unnest(phones_typed) as typed(phone)
            where {{ identity_phone_key('typed.phone') }} is not null
            order by 1
        ) as phone_keys,
        company_name_hint,
        {{ identity_registrable_domain('website_hint') }} as website_domain_hint,
        attio_company_id,
        first_seen_at,
        last_seen_at
    from unioned
)

select
    contact_key,
    source_system,
    source_object,
    source_id,
    is_company_record,
    email,
    email_normalised,
    emails,
    emails_normalised,
    email_domain,
    {{ identity_is_personal_domain('email_domain') }} as is_personal_email_domain,
    -- The company an address points at: its registrable domain, unless it is a mailbox provider.
    case
        when email_domain is not null and not {{ identity_is_personal_domain('email_domain') }}
            then {{ identity_registrable_domain('email_domain') }}
    end as company_domain_hint,
    full_name,
    phone_keys,
    company_name_hint,
    website_domain_hint,
    attio_company_id,
    first_seen_at,
    last_seen_at
from keyed
