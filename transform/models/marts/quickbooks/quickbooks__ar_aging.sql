-- Accounts receivable aging: each customer's open invoice balances by days past due.
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
    count(*) as open_invoice_count,
    sum(case when days_overdue = 0 then balance else 0 end) as current_balance,
    sum(case when days_overdue between 1 and 30 then balance else 0 end) as overdue_1_30_balance,
    sum(case when days_overdue between 31 and 60 then balance else 0 end) as overdue_31_60_balance,
    sum(case when days_overdue between 61 and 90 then balance else 0 end) as overdue_61_90_balance,
    sum(case when days_overdue > 90 then balance else 0 end) as overdue_over_90_balance,
    sum(balance) as total_open_balance,
    max(days_overdue) as max_days_overdue,
    max(as_of_date) as as_of_date
from open_invoices
group by source_relation, customer_id
