-- One row per company record (Attio companies, QuickBooks customers with a CompanyName): the
-- company it belongs to and how sure that is. Records of one business are linked when they share
-- a key (never across businesses, macros/instances.sql), by the strongest rule for the pair:
--   domain_exact         1.00  the same web host (scheme, `www.`, path ignored)
--   domain_normalised    0.95  the same registrable domain (app.acme.com = acme.com)
--   member_email_domain  0.85  as above, but one side's domain is only known from the work
--                              e-mails of its CRM people (an Attio company without a domain)
--   domain_country_tld   0.80  the same domain label under another suffix, one of them a
--                              country's (acme.co.uk, acme.de = acme.com): lower confidence,
--                              unrelated firms can own one label in two countries
--   name_similarity      0.60  the same name once case, punctuation and legal suffix are gone
--                              (Acme Inc. = ACME LLC), and only when one side has no domain at
--                              all: two records whose domains differ stay apart whatever their name
-- A renamed company (old name in QuickBooks, new in Attio) unifies through its domain. Domains
-- of mailbox providers (seed personal_email_domains) are never keys.
{{ config(materialized='table') }}

{#- Two-letter suffixes people use as generic ones; acme.io vs acme.com is not a country variant. -#}
{% set generic_cctlds = ['io', 'co', 'ai', 'me', 'tv', 'ly', 'fm', 'gg', 'sh', 'to', 'app'] %}

with attio_companies as (
    select * from {{ ref('stg_attio__companies') }}
),

quickbooks_customers as (
    select * from {{ ref('stg_quickbooks__customers') }}
    where nullif(trim(company_name), '') is not null
),

contacts as (
    select * from {{ ref('int_identity__contacts') }}
),

records as (
    select
        {{ identity_record_key('source_relation', 'attio', 'company', 'company_id') }} as company_record_key,
        {{ business_of('source_relation') }} as business,
        source_relation,
        'attio' as source_system,
        'company' as source_object,
        company_id as source_id,
        company_name,
        created_at as first_seen_at,
        greatest(created_at, last_interaction_at) as last_seen_at
    from attio_companies
    union all
    select
        {{ identity_record_key('source_relation', 'quickbooks', 'customer', 'customer_id') }},
        {{ business_of('source_relation') }},
        source_relation,
        'quickbooks',
        'customer',
        customer_id::text,
        company_name,
        created_at,
        greatest(created_at, updated_at)
    from quickbooks_customers
),

own_hosts as (
    select
        {{ identity_record_key('attio_companies.source_relation', 'attio', 'company', 'attio_companies.company_id') }}
            as company_record_key,
        listed.domain as raw_domain
    from attio_companies
    cross join lateral unnest(attio_companies.domains) as listed(domain)
    union all
    select {{ identity_record_key('source_relation', 'quickbooks', 'customer', 'customer_id') }}, website
    from quickbooks_customers
    union all
    -- The contact's address on a company account names the company's domain (unless personal).
    select contact_key, email_domain from contacts
    where is_company_record and not is_personal_email_domain
),

member_hosts as (
    -- Attio companies with no domain of their own: the work e-mail domains of their people.
    select
        {{ identity_record_key('contacts.source_relation', 'attio', 'company', 'contacts.attio_company_id') }}
            as company_record_key,
        contacts.email_domain as raw_domain
    from contacts
    where contacts.source_system = 'attio'
        and contacts.attio_company_id is not null
        and not contacts.is_personal_email_domain
        and contacts.email_domain is not null
        and exists (
            select from attio_companies
            where attio_companies.company_id = contacts.attio_company_id
                and attio_companies.source_relation is not distinct from contacts.source_relation
                and (cardinality(attio_companies.domains) = 0 or attio_companies.domains is null)
        )
),

domain_keys as (
    select distinct
        hosts.company_record_key,
        records.business,
        hosts.key_source,
        {{ identity_host('raw_domain') }} as host,
        {{ identity_registrable_domain('raw_domain') }} as registrable_domain
    from (
        select company_record_key, raw_domain, 'own' as key_source from own_hosts
        union all
        select company_record_key, raw_domain, 'member' from member_hosts
    ) as hosts
    inner join records on records.company_record_key = hosts.company_record_key
    where {{ identity_registrable_domain('raw_domain') }} is not null
),

usable_domain_keys as (
    select
        domain_keys.*,
        split_part(registrable_domain, '.', 1) as domain_label,
        substr(registrable_domain, length(split_part(registrable_domain, '.', 1)) + 2) as domain_suffix
    from domain_keys
    where not {{ identity_is_personal_domain('registrable_domain') }}
),

domain_links as (
    select
        a.company_record_key as record_a,
        b.company_record_key as record_b,
        case
            when a.key_source = 'member' or b.key_source = 'member' then 'member_email_domain'
            when a.host = b.host then 'domain_exact'
            else 'domain_normalised'
        end as match_rule,
        case
            when a.key_source = 'member' or b.key_source = 'member' then 0.85
            when a.host = b.host then 1.00
            else 0.95
        end as confidence
    from usable_domain_keys as a
    inner join usable_domain_keys as b
        on a.registrable_domain = b.registrable_domain
        and a.business = b.business
        and a.company_record_key < b.company_record_key
),

country_tld_links as (
    select
        a.company_record_key as record_a,
        b.company_record_key as record_b,
        'domain_country_tld' as match_rule,
        case when a.key_source = 'member' or b.key_source = 'member' then 0.75 else 0.80 end as confidence
    from usable_domain_keys as a
    inner join usable_domain_keys as b
        on a.domain_label = b.domain_label
        and a.business = b.business
        and a.domain_suffix <> b.domain_suffix
        and a.company_record_key < b.company_record_key
    where (
        a.domain_suffix ~ '(^|\.)[a-z]{2}$' and split_part(a.domain_suffix, '.', -1) not in ('{{ generic_cctlds | join("', '") }}')
    ) or (
        b.domain_suffix ~ '(^|\.)[a-z]{2}$' and split_part(b.domain_suffix, '.', -1) not in ('{{ generic_cctlds | join("', '") }}')
    )
),

name_keys as (
    -- has_domain by a join, not `in (select …)`: the planner overestimates the domain keys
    -- (8M rows for 47,000), will not hash that many, and then scanned them once per record
    -- (1 billion comparisons, 100 s of the cross-source build at 1M records).
    select
        records.company_record_key,
        records.business,
        {{ identity_company_name_key('records.company_name') }} as name_key,
        with_domain.company_record_key is not null as has_domain
    from records
    left join (select distinct company_record_key from usable_domain_keys) as with_domain
        on records.company_record_key = with_domain.company_record_key
),

name_links as (
    select
        a.company_record_key as record_a,
        b.company_record_key as record_b,
        'name_similarity' as match_rule,
        0.60 as confidence
    from name_keys as a
    inner join name_keys as b
        on a.name_key = b.name_key
        and a.business = b.business
        and a.company_record_key < b.company_record_key
    where not (a.has_domain and b.has_domain)
),

all_links as (
    select * from domain_links
    union all
    select * from country_tld_links
    union all
    select * from name_links
),

links as (
    select distinct on (record_a, record_b) record_a, record_b, match_rule, confidence
    from all_links
    order by record_a, record_b, confidence desc, match_rule
),

nodes as (
    select company_record_key as node_id from records
),

edges as (
    select record_a as node_a, record_b as node_b from links
),

components as (
    {{ identity_connected_components('nodes', 'edges') }}
),

record_links as (
    select record_a as company_record_key, match_rule, confidence from links
    union all
    select record_b, match_rule, confidence from links
),

best_link as (
    select distinct on (company_record_key) company_record_key, match_rule, confidence
    from record_links
    order by company_record_key, confidence desc, match_rule
),

record_domains as (
    select
        company_record_key,
        array_agg(distinct registrable_domain order by registrable_domain) as registrable_domains
    from usable_domain_keys
    group by company_record_key
)

select
    records.company_record_key,
    records.business,
    records.source_relation,
    records.source_system,
    records.source_object,
    records.source_id,
    components.component_id as company_id,
    coalesce(best_link.match_rule, 'single_record') as match_rule,
    coalesce(best_link.confidence, 1.00)::numeric(3, 2) as confidence,
    records.company_name,
    {{ identity_company_name_key('records.company_name') }} as company_name_key,
    coalesce(record_domains.registrable_domains, '{}'::text[]) as registrable_domains,
    records.first_seen_at,
    records.last_seen_at
from records
inner join components on records.company_record_key = components.node_id
left join best_link on records.company_record_key = best_link.company_record_key
left join record_domains on records.company_record_key = record_domains.company_record_key
