-- All payment lines applied to invoices show up as amount_paid on the invoices mart, to the cent.
with mart as (
    select coalesce(sum(amount_paid), 0) as amount_paid from {{ ref('quickbooks__invoices') }}
),

staged as (
    select coalesce(sum(amount), 0) as amount_paid
    from {{ ref('stg_quickbooks__payment_lines') }}
    where linked_transaction_type = 'Invoice'
)

select mart.amount_paid as mart_amount_paid, staged.amount_paid as staged_amount_paid
from mart cross join staged
where mart.amount_paid <> staged.amount_paid
