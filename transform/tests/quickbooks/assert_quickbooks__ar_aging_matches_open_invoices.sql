-- Each customer's aging total equals the sum of their open invoice balances, and no customer
-- with an open invoice is missing from the aging (or the other way round).
with aging as (
    select source_relation, customer_id, total_open_balance, open_invoice_count
    from {{ ref('quickbooks__ar_aging') }}
),

open_invoices as (
    select source_relation, customer_id, sum(balance) as total_open_balance, count(*) as open_invoice_count
    from {{ ref('stg_quickbooks__invoices') }}
    where balance > 0
    group by source_relation, customer_id
)

select
    coalesce(aging.source_relation, open_invoices.source_relation) as source_relation,
    coalesce(aging.customer_id, open_invoices.customer_id) as customer_id,
    aging.total_open_balance as aging_total,
    open_invoices.total_open_balance as open_invoice_total,
    aging.open_invoice_count as aging_count,
    open_invoices.open_invoice_count as open_invoice_count
from aging
full outer join open_invoices
    on aging.source_relation = open_invoices.source_relation
    and aging.customer_id = open_invoices.customer_id
where aging.total_open_balance is distinct from open_invoices.total_open_balance
    or aging.open_invoice_count is distinct from open_invoices.open_invoice_count
