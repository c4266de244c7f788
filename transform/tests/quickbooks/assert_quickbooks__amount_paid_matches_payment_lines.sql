-- All payment lines applied to invoices show up as amount_paid on the invoices mart, to the cent,
-- in every company.
with mart as (
    select source_relation, sum(amount_paid) as amount_paid from {{ ref('quickbooks__invoices') }}
    group by source_relation
),

staged as (
    select source_relation, sum(amount) as amount_paid
    from {{ ref('stg_quickbooks__payment_lines') }}
    where linked_transaction_type = 'Invoice'
    group by source_relation
)

select
    coalesce(mart.source_relation, staged.source_relation) as source_relation,
    mart.amount_paid as mart_amount_paid,
    staged.amount_paid as staged_amount_paid
from mart
full outer join staged on mart.source_relation = staged.source_relation
where coalesce(mart.amount_paid, 0) <> coalesce(staged.amount_paid, 0)
