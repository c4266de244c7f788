-- One row per (not deleted) invoice, with what has been paid and how late it is.
with invoices as (
    select * from {{ ref('stg_quickbooks__invoices') }}
),

payments as (
    select * from {{ ref('int_quickbooks__payments_summed_to_invoices') }}
),

customers as (
    select * from {{ ref('stg_quickbooks__customers') }}
),

enriched as (
    select
        invoices.source_relation,
        invoices.invoice_id,
        invoices.doc_number,
        invoices.customer_id,
        coalesce(customers.display_name, invoices.customer_name) as customer_name,
        invoices.transaction_date,
        -- QuickBooks falls back to the invoice date when no due date (or terms) is set.
        coalesce(invoices.due_date, invoices.transaction_date) as due_date,
        invoices.total_amount,
        invoices.tax_amount,
        invoices.total_amount - invoices.tax_amount as net_amount,
        invoices.deposit_amount,
        coalesce(payments.amount_paid, 0) as amount_paid,
        coalesce(payments.payment_count, 0) as payment_count,
        payments.last_payment_date,
        -- The open balance as QuickBooks states it; tests check it against the payments.
        invoices.balance,
        invoices.home_balance,
        invoices.currency_code,
        invoices.created_at,
        invoices.updated_at,
        {{ quickbooks_as_of_date() }} as as_of_date
    from invoices
    left join payments
        on invoices.source_relation = payments.source_relation
        and invoices.invoice_id = payments.invoice_id
    left join customers
        on invoices.source_relation = customers.source_relation
        and invoices.customer_id = customers.customer_id
)

select
    *,
    case
        when balance <= 0 then 'paid'
        when due_date < as_of_date then 'overdue'
        else 'open'
    end as status,
    case
        when balance > 0 and due_date < as_of_date then as_of_date - due_date
        else 0
    end as days_overdue
from enriched
