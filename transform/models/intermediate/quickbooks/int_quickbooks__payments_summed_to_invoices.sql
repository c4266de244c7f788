-- How much of each invoice has been settled by payments (credit memos applied through a
-- payment count too: they arrive as lines of that payment). Deleted payments are already gone.
with payment_lines as (
    select * from {{ ref('stg_quickbooks__payment_lines') }}
    where linked_transaction_type = 'Invoice'
)

select
    source_relation,
    linked_transaction_id as invoice_id,
    sum(amount) as amount_paid,
    count(distinct payment_id) as payment_count,
    max(transaction_date) as last_payment_date
from payment_lines
group by source_relation, linked_transaction_id
