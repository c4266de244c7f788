-- One row per source record (QuickBooks customer, Attio company, Attio person, Shopify customer)
-- -> the unified customer it belongs to, within the record's business. A unified customer is a company when the person
-- works for one (the company is the customer), else the person.
-- A person joins a company by, in order:
--   crm_company_ref  1.00  an Attio record of the person points at the company
--   email_domain     0.90  else, a work (non-personal) e-mail domain of the person is one of
--                          the company's domains
-- If a person's records point at two companies, the lowest company id is kept and the link is
-- `company_conflict` 0.50: two companies are never merged through one person.
-- match_rule / confidence of a row: the weakest step on the record's way to its customer
-- (its own person or company link, then the person-to-company link).
{{ config(materialized='table') }}

with people as (
    select * from {{ ref('int_identity__people') }}
),

companies as (
    select * from {{ ref('int_identity__companies') }}
),

ref_links as (
    select distinct people.person_id, companies.company_id
    from people
    inner join companies
        on companies.company_record_key
            = {{ identity_record_key('people.source_relation', 'attio', 'company', 'people.attio_company_id') }}
),

company_domains as (
    -- one row per (company, domain): an equality join, where `= any(array)` could only loop
    select companies.business, companies.company_id, domain.registrable_domain
    from companies
    cross join lateral unnest(companies.registrable_domains) as domain(registrable_domain)
),

domain_links as (
    select distinct people.person_id, company_domains.company_id
    from people
    inner join company_domains
        on people.company_domain_hint = company_domains.registrable_domain
        and people.business = company_domains.business
    where not exists (select from ref_links where ref_links.person_id = people.person_id)
),

person_company_candidates as (
    select person_id, company_id, 'crm_company_ref' as match_rule, 1.00 as confidence from ref_links
    union all
    select person_id, company_id, 'email_domain', 0.90 from domain_links
),

person_company as (
    select
        person_id,
        min(company_id) as company_id,
        case when count(distinct company_id) > 1 then 'company_conflict' else min(match_rule) end as match_rule,
        case when count(distinct company_id) > 1 then 0.50 else min(confidence) end as confidence
    from person_company_candidates
    group by person_id
),

company_rows as (
    select
        business,
        source_relation,
        source_system,
        source_object,
        source_id,
        'company' as customer_kind,
        company_id as cluster_id,
        match_rule,
        confidence,
        null::text as person_id,
        company_id
    from companies
),

person_rows as (
    select
        people.business,
        people.source_relation,
        people.source_system,
        people.source_object,
        people.source_id,
        case when person_company.company_id is not null then 'company' else 'person' end as customer_kind,
        coalesce(person_company.company_id, people.person_id) as cluster_id,
        case
            when person_company.confidence <= people.confidence then person_company.match_rule
            else people.match_rule
        end as match_rule,
        least(people.confidence, coalesce(person_company.confidence, 1.00)) as confidence,
        people.person_id,
        person_company.company_id
    from people
    left join person_company on people.person_id = person_company.person_id
)

select
    business,
    source_relation,
    source_system,
    source_object,
    source_id,
    'cus_' || left(md5(customer_kind || '|' || cluster_id), 16) as unified_customer_id,
    customer_kind,
    match_rule,
    confidence::numeric(3, 2) as confidence,
    person_id,
    company_id
from (
    select * from company_rows
    union all
    select * from person_rows
) as mapped
