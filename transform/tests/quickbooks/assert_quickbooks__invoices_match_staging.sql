-- The invoices mart has exactly the staged invoices and their amounts, to the cent, per company.
with mart as (
    select source_relation, count(*) as invoice_count, sum(total_amount) as total_amount,
           sum(tax_amount) as tax_amount, sum(balance) as balance
    from {{ ref('quickbooks__invoices') }}
    group by source_relation
),

staged as (
    select source_relation, count(*) as invoice_count, sum(total_amount) as total_amount,
           sum(tax_amount) as tax_amount, sum(balance) as balance
    from {{ ref('stg_quickbooks__invoices') }}
    group by source_relation
)

select mart.*, staged.*
from mart
full outer join staged on mart.source_relation = staged.source_relation
where mart.invoice_count is distinct from staged.invoice_count
    or mart.total_amount is distinct from staged.total_amount
    or mart.tax_amount is distinct from staged.tax_amount
    or mart.balance is distinct from staged.balance
