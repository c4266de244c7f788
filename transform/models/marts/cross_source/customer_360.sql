{%- set system_order = "case contacts.source_system when 'attio' then 1 when 'quickbooks' then 2 else 3 end" -%}
-- One row per unified customer (a company, or a person who buys for themselves) of a business:
-- the ids it has in each system, who it is, where it stands in the CRM, what it bought in the shop and
-- what it was invoiced, and when anything last happened anywhere.
with customer_map as (
    select * from {{ ref('int_identity__customer_map') }}
),

contacts as (
    select * from {{ ref('int_identity__contacts') }}
),

companies as (
    select * from {{ ref('int_identity__companies') }}
),

attio_companies as (
    select * from {{ ref('stg_attio__companies') }}
),

attio_people as (
    select * from {{ ref('stg_attio__people') }}
),

deals as (
    select * from {{ ref('attio__deal_pipeline') }}
),

orders as (
    select * from {{ ref('shopify__orders') }}
),

invoices as (
    select * from {{ ref('quickbooks__invoices') }}
),

ids as (
    select
        unified_customer_id,
        min(business) as business,
        min(customer_kind) as customer_kind,
        array_agg(source_id order by source_id) filter (where source_system = 'quickbooks') as quickbooks_customer_ids,
        array_agg(source_id order by source_id) filter (where source_system = 'attio' and source_object = 'company') as attio_company_ids,
        array_agg(source_id order by source_id) filter (where source_system = 'attio' and source_object = 'person') as attio_person_ids,
        array_agg(source_id order by source_id) filter (where source_system = 'shopify') as shopify_customer_ids,
        array_agg(distinct source_system order by source_system) as source_systems,
        -- the last resort for a name: the record itself (a customer is never nameless)
        min(source_system || ' ' || source_object || ' ' || source_id) as first_record,
        min(confidence) as min_match_confidence
    from customer_map
    group by unified_customer_id
),

-- First and last seen in any system: the records' own creation and latest moments.
seen as (
    select
        customer_map.unified_customer_id,
        min(records.first_seen_at) as first_seen_at,
        max(records.last_seen_at) as last_seen_at
    from customer_map
    inner join (
        select source_relation, source_system, source_object, source_id, first_seen_at, last_seen_at from contacts
        union all
        select source_relation, source_system, source_object, source_id, first_seen_at, last_seen_at from companies
    ) as records
        on records.source_relation = customer_map.source_relation
        and records.source_system = customer_map.source_system
        and records.source_object = customer_map.source_object
        and records.source_id = customer_map.source_id
    group by customer_map.unified_customer_id
),

-- Name, domain and e-mail: the CRM's first (it is kept current: a renamed company has its new
-- name there), then QuickBooks, then the shop; within a system, the lowest id. A value one
-- record lacks comes from the next that has it: a customer seen in one system only, or typed
-- without a name, is still complete from whatever its systems know.
names as (
    select
        unified_customer_id,
        (array_agg(company_name order by from_crm desc, source_id) filter (where company_name is not null))[1] as company_name,
        (array_agg(company_domain order by from_crm desc, source_id) filter (where company_domain is not null))[1] as company_domain
    from (
        select
            customer_map.unified_customer_id,
            customer_map.source_id,
            customer_map.source_system = 'attio' as from_crm,
            coalesce(nullif(trim(attio_companies.company_name), ''), nullif(trim(companies.company_name), '')) as company_name,
            coalesce(attio_companies.primary_domain, companies.registrable_domains[1]) as company_domain
        from customer_map
        inner join companies
            on companies.source_relation = customer_map.source_relation
            and companies.source_system = customer_map.source_system
            and companies.source_object = customer_map.source_object
            and companies.source_id = customer_map.source_id
        left join attio_companies
            on customer_map.source_system = 'attio' and attio_companies.company_id = customer_map.source_id
            and attio_companies.source_relation = customer_map.source_relation
    ) as company_records
    group by unified_customer_id
),

person_names as (
    select
        customer_map.unified_customer_id,
        (array_agg(nullif(trim(contacts.full_name), '') order by {{ system_order }}, contacts.source_id)
            filter (where nullif(trim(contacts.full_name), '') is not null))[1] as full_name,
        (array_agg(contacts.email_normalised order by {{ system_order }}, contacts.source_id)
            filter (where contacts.email_normalised is not null))[1] as email
    from customer_map
    inner join contacts
        on contacts.source_relation = customer_map.source_relation
        and contacts.source_system = customer_map.source_system
        and contacts.source_object = customer_map.source_object
        and contacts.source_id = customer_map.source_id
    where not contacts.is_company_record
    group by customer_map.unified_customer_id
),

latest_deal as (
    -- The most recently created deal that is open or won: where the relationship stands now.
    select distinct on (customer_map.unified_customer_id)
        customer_map.unified_customer_id,
        deals.deal_id as crm_deal_id,
        deals.stage as crm_stage,
        deals.owner_name as crm_owner_name,
        deals.deal_value as crm_deal_value
    from deals
    inner join customer_map
        on customer_map.source_system = 'attio' and customer_map.source_object = 'company'
        and customer_map.source_id = deals.company_id and customer_map.source_relation = deals.source_relation
    where deals.is_open or deals.is_won
    order by customer_map.unified_customer_id, deals.created_at desc, deals.deal_id
),

deal_totals as (
    select
        customer_map.unified_customer_id,
        count(*) as crm_deal_count,
        count(*) filter (where deals.is_won) as crm_won_deal_count,
        max(deals.created_at) as last_deal_created_at
    from deals
    inner join customer_map
        on customer_map.source_system = 'attio' and customer_map.source_object = 'company'
        and customer_map.source_id = deals.company_id and customer_map.source_relation = deals.source_relation
    group by customer_map.unified_customer_id
),

crm_interactions as (
    select customer_map.unified_customer_id, max(attio_companies.last_interaction_at) as last_interaction_at
    from attio_companies
    inner join customer_map
        on customer_map.source_system = 'attio' and customer_map.source_object = 'company'
        and customer_map.source_id = attio_companies.company_id
        and customer_map.source_relation = attio_companies.source_relation
    group by customer_map.unified_customer_id
    union all
    select customer_map.unified_customer_id, max(attio_people.last_interaction_at)
    from attio_people
    inner join customer_map
        on customer_map.source_system = 'attio' and customer_map.source_object = 'person'
        and customer_map.source_id = attio_people.person_id
        and customer_map.source_relation = attio_people.source_relation
    group by customer_map.unified_customer_id
),

crm_last_interaction as (
    -- one row per customer, joined below (a correlated subquery here rescanned every row per customer)
    select unified_customer_id, max(last_interaction_at) as last_interaction_at
    from crm_interactions
    group by unified_customer_id
),

shop as (
    -- Counted orders only (not test, not cancelled), as in shopify__customers.
    select
        customer_map.unified_customer_id,
        count(*) as shopify_order_count,
        min(orders.processed_at) as shopify_first_order_at,
        max(orders.processed_at) as shopify_last_order_at,
        sum(orders.net_revenue) as shopify_lifetime_revenue
    from orders
    inner join customer_map
        on customer_map.source_system = 'shopify' and customer_map.source_id = orders.customer_id::text
        and customer_map.source_relation = orders.source_relation
    where orders.is_counted
    group by customer_map.unified_customer_id
),

books as (
    select
        customer_map.unified_customer_id,
        count(*) as quickbooks_invoice_count,
        sum(invoices.total_amount) as quickbooks_invoiced_amount,
        sum(invoices.balance) as quickbooks_open_balance,
        max(invoices.days_overdue) as quickbooks_max_days_overdue,
        max(invoices.transaction_date) as quickbooks_last_invoice_date
    from invoices
    inner join customer_map
        on customer_map.source_system = 'quickbooks' and customer_map.source_id = invoices.customer_id::text
        and customer_map.source_relation = invoices.source_relation
    group by customer_map.unified_customer_id
)

select
    ids.unified_customer_id,
    ids.business,
    ids.customer_kind,
    case
        when ids.customer_kind = 'company'
            then coalesce(names.company_name, names.company_domain, person_names.full_name, person_names.email, ids.first_record)
        else coalesce(person_names.full_name, person_names.email, ids.first_record)
    end as customer_name,
    names.company_domain as primary_domain,
    person_names.email as primary_email,
    coalesce(ids.quickbooks_customer_ids, '{}') as quickbooks_customer_ids,
    coalesce(ids.attio_company_ids, '{}') as attio_company_ids,
    coalesce(ids.attio_person_ids, '{}') as attio_person_ids,
    coalesce(ids.shopify_customer_ids, '{}') as shopify_customer_ids,
    ids.source_systems,
    seen.first_seen_at,
    seen.last_seen_at,
    ids.min_match_confidence,
    latest_deal.crm_deal_id,
    latest_deal.crm_stage,
    latest_deal.crm_owner_name,
    latest_deal.crm_deal_value,
    coalesce(deal_totals.crm_deal_count, 0) as crm_deal_count,
    coalesce(deal_totals.crm_won_deal_count, 0) as crm_won_deal_count,
    coalesce(shop.shopify_order_count, 0) as shopify_order_count,
    shop.shopify_first_order_at,
    shop.shopify_last_order_at,
    coalesce(shop.shopify_lifetime_revenue, 0) as shopify_lifetime_revenue,
    coalesce(books.quickbooks_invoice_count, 0) as quickbooks_invoice_count,
    coalesce(books.quickbooks_invoiced_amount, 0) as quickbooks_invoiced_amount,
    coalesce(books.quickbooks_open_balance, 0) as quickbooks_open_balance,
    books.quickbooks_max_days_overdue,
    -- Latest dated event in any system: an order, an invoice, a CRM interaction or a new deal.
    greatest(
        shop.shopify_last_order_at,
        books.quickbooks_last_invoice_date::timestamptz,
        crm_last_interaction.last_interaction_at,
        deal_totals.last_deal_created_at
    ) as last_activity_at
from ids
left join seen on ids.unified_customer_id = seen.unified_customer_id
left join names on ids.unified_customer_id = names.unified_customer_id
left join person_names on ids.unified_customer_id = person_names.unified_customer_id
left join latest_deal on ids.unified_customer_id = latest_deal.unified_customer_id
left join deal_totals on ids.unified_customer_id = deal_totals.unified_customer_id
left join shop on ids.unified_customer_id = shop.unified_customer_id
left join books on ids.unified_customer_id = books.unified_customer_id
left join crm_last_interaction on ids.unified_customer_id = crm_last_interaction.unified_customer_id
