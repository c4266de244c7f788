-- The invoices mart has exactly the staged invoices and their amounts, to the cent.
with mart as (
    select count(*) as invoice_count, sum(total_amount) as total_amount, sum(tax_amount) as tax_amount,
           sum(balance) as balance
    from {{ ref('quickbooks__invoices') }}
),

staged as (
    select count(*) as invoice_count, sum(total_amount) as total_amount, sum(tax_amount) as tax_amount,
           sum(balance) as balance
    from {{ ref('stg_quickbooks__invoices') }}
)

select mart.*, staged.*
from mart cross join staged
where mart.invoice_count <> staged.invoice_count
    or mart.total_amount is distinct from staged.total_amount
    or mart.tax_amount is distinct from staged.tax_amount
    or mart.balance is distinct from staged.balance
