-- Accounts receivable aging: each customer's open invoice balances by days past due, in the
-- customer's currency (QuickBooks gives each customer one), and their total in the home currency.
-- Invoices only: unapplied payments and unused credit memos are not netted in (QuickBooks'
-- own A/R Aging report shows them as negative amounts).
with open_invoices as (
    select * from {{ ref('quickbooks__invoices') }}
    where balance > 0
)

select
    source_relation,
    customer_id,
    max(customer_name) as customer_name,
    max(currency_code) as currency_code,
    count(*) as open_invoice_count,
    {{ quickbooks_aging_buckets() }},
    sum(home_balance) as total_open_home_balance,
    max(as_of_date) as as_of_date
from open_invoices
group by source_relation, customer_id
