-- Every person-like record of every system, one row each, with the keys identity resolution
-- compares, and the business it belongs to (records are matched within their business only,
-- macros/instances.sql): QuickBooks customers that are individuals or carry an e-mail, Attio people, Shopify
-- customers. Company hints (the e-mail's company domain, the CRM's company, QuickBooks'
-- CompanyName) travel along; deciding what they mean is left to the later models.
-- Incremental by input digest (macros/incremental/incremental.sql): a build normalises only the
-- records whose fields changed since the last one and drops the records that are gone; the
-- normalisation is 25 s of CPU for 158k contacts at 1M source records, the digests under a second.
-- Its inputs are built by the source jobs, so a change of columns comes from our code, which
-- rebuilds the table whole anyway: sync_all_columns then follows it instead of stopping.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='contact_key',
          on_schema_change='sync_all_columns',
          pre_hook="{{ incremental_delete_stale('contact_key', identity_contact_records()) }}") }}

with records as (
    {{ identity_contact_records() }}
),

changed as (
    select * from records where {{ incremental_not_built('contact_key', 'records') }}
),

-- Materialised: every key below is an expression over the typed e-mail (regular expressions,
-- sub-selects). Inlined into the final select, `email_domain` was recomputed for each of the
-- personal_email_domains rows the `exists` checks scan: 21.6 s for 158k contacts at 1M source
-- records, 6.5 s computed once (bench/RESULTS.md).
keyed as materialized (
    select
        contact_key,
        business,
        source_relation,
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
        last_seen_at,
        input_digest
    from changed
)

select
    contact_key,
    business,
    source_relation,
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
    last_seen_at,
    input_digest
from keyed
