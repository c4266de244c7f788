-- One timeline per unified customer (of one business): every dated event the systems know about it, one row
-- each, in one shape (when, which system, what happened, the record, an amount if any).
-- Dates without a time (invoice and close dates) are placed at midnight UTC of that day.
with customer_map as (
    select * from {{ ref('int_identity__customer_map') }}
),

attio_people as (
    select * from {{ ref('stg_attio__people') }}
),

attio_companies as (
    select * from {{ ref('stg_attio__companies') }}
),

deals as (
    select * from {{ ref('attio__deal_pipeline') }}
),

orders as (
    select * from {{ ref('shopify__orders') }}
    where not is_test
),

refunds as (
    select * from {{ ref('stg_shopify__refunds') }}
),

invoices as (
    select * from {{ ref('quickbooks__invoices') }}
),

events as (
    select source_relation, 'attio' as source_system, 'company' as source_object, company_id as source_id,
        created_at as event_at, 'crm_company_created' as event_type, company_id as event_record_id,
        company_name as event_label, null::numeric as amount
    from attio_companies
    union all
    select source_relation, 'attio', 'person', person_id, created_at, 'crm_person_created', person_id, full_name, null
    from attio_people
    union all
    select source_relation, 'attio', 'person', person_id, last_interaction_at, 'crm_interaction', person_id, last_interaction_type, null
    from attio_people
    where last_interaction_at is not null
    union all
    select source_relation, 'attio', 'company', company_id, created_at, 'deal_created', deal_id, deal_name, deal_value
    from deals
    where company_id is not null
    union all
    select source_relation, 'attio', 'company', company_id, close_date::timestamp at time zone 'UTC',
        case when is_won then 'deal_won' else 'deal_lost' end, deal_id, deal_name, deal_value
    from deals
    where company_id is not null and (is_won or is_lost) and close_date is not null
    union all
    select source_relation, 'shopify', 'customer', customer_id::text, created_at, 'order_placed', order_id::text, order_name, total_price
    from orders
    where customer_id is not null
    union all
    select orders.source_relation, 'shopify', 'customer', orders.customer_id::text, refunds.created_at, 'order_refunded',
        refunds.refund_id::text, orders.order_name, -refunds.total_refunded
    from refunds
    inner join orders on refunds.order_id = orders.order_id and refunds.source_relation = orders.source_relation
    where orders.customer_id is not null
    union all
    select source_relation, 'quickbooks', 'customer', customer_id::text, transaction_date::timestamp at time zone 'UTC',
        'invoice_issued', invoice_id::text, doc_number, total_amount
    from invoices
    union all
    select source_relation, 'quickbooks', 'customer', customer_id::text, last_payment_date::timestamp at time zone 'UTC',
        case when balance = 0 then 'invoice_paid' else 'invoice_part_paid' end, invoice_id::text, doc_number, amount_paid
    from invoices
    where last_payment_date is not null
)

select
    customer_map.unified_customer_id,
    customer_map.business,
    events.event_at,
    events.source_system,
    events.event_type,
    events.source_id as source_customer_id,
    events.event_record_id,
    events.event_label,
    events.amount,
    row_number() over (
        partition by customer_map.unified_customer_id
        order by events.event_at, events.source_system, events.event_type, events.event_record_id
    ) as event_sequence
from events
inner join customer_map
    on customer_map.source_relation = events.source_relation
    and customer_map.source_system = events.source_system
    and customer_map.source_object = events.source_object
    and customer_map.source_id = events.source_id
