-- One row per person record (never company accounts): the person it belongs to, and how sure
-- that is. Records linked directly or through a chain of person_matches are one person
-- (person_id: the smallest contact_key among them). match_rule / confidence: the record's
-- strongest link to another record of its person; `single_record` 1.0 when it stands alone.
{{ config(materialized='table') }}

with contacts as (
    select * from {{ ref('int_identity__contacts') }}
    where not is_company_record
),

matches as (
    select * from {{ ref('int_identity__person_matches') }}
),

nodes as (
    select contact_key as node_id from contacts
),

edges as (
    select contact_key_a as node_a, contact_key_b as node_b from matches
),

components as (
    {{ identity_connected_components('nodes', 'edges') }}
),

record_links as (
    select contact_key_a as contact_key, match_rule, confidence from matches
    union all
    select contact_key_b as contact_key, match_rule, confidence from matches
),

best_link as (
    select distinct on (contact_key) contact_key, match_rule, confidence
    from record_links
    order by contact_key, confidence desc, match_rule
)

select
    contacts.contact_key,
    contacts.business,
    contacts.source_relation,
    contacts.source_system,
    contacts.source_object,
    contacts.source_id,
    components.component_id as person_id,
    coalesce(best_link.match_rule, 'single_record') as match_rule,
    coalesce(best_link.confidence, 1.00)::numeric(3, 2) as confidence,
    contacts.full_name,
    contacts.email_normalised,
    contacts.company_domain_hint,
    contacts.attio_company_id
from contacts
inner join components on contacts.contact_key = components.node_id
left join best_link on contacts.contact_key = best_link.contact_key
