-- Links between two person records (never company accounts) of one business that are the same
-- human, one row per linked pair (contact_key_a < contact_key_b) with the strongest rule:
--   email_exact       1.00  the same address, once trimmed and lower-cased
--   email_normalised  0.95  the same mailbox only after plus-alias / Gmail-dot normalisation
--   phone             0.85  the same phone number (country code and national number; formats,
--                           extensions and trunk prefixes aside: macros/identity/identity_phone.sql)
--   phone_national    0.75  the same national number, one side (or both) typed without its
--                           country code: it could be another country's number, hence lower
--                           (and through it a +1 and a +44 record can end up in one customer)
--   Phone links only where the two records' e-mails do not disagree (a shared switchboard
--   must not merge two colleagues); two country codes that differ never link.
-- A key that many records share says nothing about any one of them: keys on more than
-- `max_records_per_key` records are dropped (role mailboxes, a shop's own test address).
{{ config(materialized='table') }}

{% set max_records_per_key = 5 %}

with contacts as (
    select * from {{ ref('int_identity__contacts') }}
    where not is_company_record
),

-- Each record's normalised addresses, as int_identity__contacts computed them (normalising every
-- address again here cost 8 of this model's 10 s at 1M source records).
addresses as (
    select distinct contacts.business, contacts.contact_key, typed.email_normalised
    from contacts
    cross join lateral unnest(contacts.emails_normalised) as typed(email_normalised)
),

usable_addresses as (
    select *
    from addresses
    where (business, email_normalised) in (
        select business, email_normalised from addresses
        group by business, email_normalised
        having count(distinct contact_key) <= {{ max_records_per_key }}
    )
),

email_pairs as (
    select
        a.contact_key as contact_key_a,
        b.contact_key as contact_key_b,
        min(a.email_normalised) as matched_on
    from usable_addresses as a
    inner join usable_addresses as b
        on a.email_normalised = b.email_normalised
        and a.business = b.business
        and a.contact_key < b.contact_key
    group by a.contact_key, b.contact_key
),

-- exact when the two records share an address as typed (trimmed and lower-cased) whose key is
-- usable, not only its normalised form (a shared role mailbox dropped above does not count);
-- normalised here for the linked pairs only, which are few
pairs_typed as (
    select
        email_pairs.*,
        exists (
            select 1
            from unnest(contact_a.emails) as shared(address)
            where shared.address = any(contact_b.emails)
                and {{ identity_normalised_email('shared.address') }} in (
                    select email_normalised from usable_addresses where usable_addresses.business = contact_a.business
                )
        ) as shares_typed_address
    from email_pairs
    inner join contacts as contact_a on contact_a.contact_key = email_pairs.contact_key_a
    inner join contacts as contact_b on contact_b.contact_key = email_pairs.contact_key_b
),

email_links as (
    select
        contact_key_a,
        contact_key_b,
        case when shares_typed_address then 'email_exact' else 'email_normalised' end as match_rule,
        case when shares_typed_address then 1.00 else 0.95 end as confidence,
        matched_on
    from pairs_typed
),

phones as (
    select distinct
        contacts.business,
        contacts.contact_key,
        phone.phone_key,
        split_part(phone.phone_key, ':', 1) as country_code,
        split_part(phone.phone_key, ':', 2) as national_number
    from contacts
    cross join lateral unnest(contacts.phone_keys) as phone(phone_key)
),

usable_phones as (
    select *
    from phones
    where (business, national_number) in (
        select business, national_number from phones
        group by business, national_number
        having count(distinct contact_key) <= {{ max_records_per_key }}
    )
),

phone_pairs as (
    select
        a.contact_key as contact_key_a,
        b.contact_key as contact_key_b,
        case when a.country_code = b.country_code and a.country_code <> '' then 'phone' else 'phone_national' end as match_rule,
        case when a.country_code = b.country_code and a.country_code <> '' then 0.85 else 0.75 end as confidence,
        a.phone_key as matched_on
    from usable_phones as a
    inner join usable_phones as b
        on a.national_number = b.national_number
        and a.business = b.business
        and a.contact_key < b.contact_key
        and (a.country_code = b.country_code or a.country_code = '' or b.country_code = '')
),

phone_links as (
    select
        phone_pairs.contact_key_a,
        phone_pairs.contact_key_b,
        (array_agg(phone_pairs.match_rule order by phone_pairs.confidence desc))[1] as match_rule,
        max(phone_pairs.confidence) as confidence,
        min(phone_pairs.matched_on) as matched_on
    from phone_pairs
    inner join contacts as contact_a on contact_a.contact_key = phone_pairs.contact_key_a
    inner join contacts as contact_b on contact_b.contact_key = phone_pairs.contact_key_b
    -- Two records that both carry e-mails and share none are two people with one phone.
    where cardinality(contact_a.emails_normalised) = 0
        or cardinality(contact_b.emails_normalised) = 0
        or contact_a.emails_normalised && contact_b.emails_normalised
    group by phone_pairs.contact_key_a, phone_pairs.contact_key_b
),

all_links as (
    select * from email_links
    union all
    select * from phone_links
),

strongest as (
    select
        *,
        row_number() over (
            partition by contact_key_a, contact_key_b order by confidence desc, match_rule
        ) as strength_rank
    from all_links
)

select contact_key_a, contact_key_b, match_rule, confidence::numeric(3, 2) as confidence, matched_on
from strongest
where strength_rank = 1
