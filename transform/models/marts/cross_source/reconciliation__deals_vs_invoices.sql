-- One row per unified customer (of one business) with a won Attio deal or a QuickBooks invoice: does the CRM's
-- won business show up in the books, and is everything the books invoice known to the CRM?
--   won_deal_not_invoiced   won deals, but no invoice on or after the first won deal's close date
--   invoiced_without_deal   invoices, but no won deal (a customer the CRM never closed)
with customer_map as (
    select * from {{ ref('int_identity__customer_map') }}
),

customers as (
    select unified_customer_id, business, customer_kind, customer_name from {{ ref('customer_360') }}
),

won_deals as (
    select
        customer_map.unified_customer_id,
        count(*) as won_deal_count,
        sum(deals.deal_value) as won_deal_value,
        min(deals.close_date) as first_won_close_date,
        max(deals.close_date) as last_won_close_date
    from {{ ref('attio__deal_pipeline') }} as deals
    inner join customer_map
        on customer_map.source_system = 'attio' and customer_map.source_object = 'company'
        and customer_map.source_id = deals.company_id and customer_map.source_relation = deals.source_relation
    where deals.is_won
    group by 1
),

invoices as (
    select
        customer_map.unified_customer_id,
        invoices.transaction_date,
        invoices.total_amount
    from {{ ref('quickbooks__invoices') }} as invoices
    inner join customer_map
        on customer_map.source_system = 'quickbooks' and customer_map.source_id = invoices.customer_id::text
        and customer_map.source_relation = invoices.source_relation
),

invoice_totals as (
    select
        unified_customer_id,
        count(*) as invoice_count,
        sum(total_amount) as invoiced_amount,
        min(transaction_date) as first_invoice_date,
        max(transaction_date) as last_invoice_date
    from invoices
    group by 1
),

invoiced_after_win as (
    select won_deals.unified_customer_id, count(invoices.transaction_date) as invoices_after_first_win
    from won_deals
    left join invoices
        on invoices.unified_customer_id = won_deals.unified_customer_id
        and invoices.transaction_date >= won_deals.first_won_close_date
    group by 1
)

select
    customers.unified_customer_id,
    customers.business,
    customers.customer_kind,
    customers.customer_name,
    coalesce(won_deals.won_deal_count, 0) as won_deal_count,
    coalesce(won_deals.won_deal_value, 0) as won_deal_value,
    won_deals.first_won_close_date,
    won_deals.last_won_close_date,
    coalesce(invoice_totals.invoice_count, 0) as invoice_count,
    coalesce(invoice_totals.invoiced_amount, 0) as invoiced_amount,
    invoice_totals.first_invoice_date,
    invoice_totals.last_invoice_date,
    coalesce(invoiced_after_win.invoices_after_first_win, 0) as invoices_after_first_win,
    won_deals.unified_customer_id is not null
        and coalesce(invoiced_after_win.invoices_after_first_win, 0) = 0 as is_won_deal_not_invoiced,
    invoice_totals.unified_customer_id is not null and won_deals.unified_customer_id is null as is_invoiced_without_deal
from customers
left join won_deals on customers.unified_customer_id = won_deals.unified_customer_id
left join invoice_totals on customers.unified_customer_id = invoice_totals.unified_customer_id
left join invoiced_after_win on customers.unified_customer_id = invoiced_after_win.unified_customer_id
where won_deals.unified_customer_id is not null or invoice_totals.unified_customer_id is not null
