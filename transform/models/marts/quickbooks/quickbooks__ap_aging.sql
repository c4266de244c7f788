-- Accounts payable aging, beside the A/R aging: each vendor's open bill balances by days past
-- due (a bill without a due date is due on its date), in the vendor's currency, and their total
-- in the home currency. Bills only: unapplied vendor credits are not netted in (QuickBooks' own
-- A/P Aging report shows them as negative amounts).
with open_bills as (
    select
        *,
        greatest({{ quickbooks_as_of_date() }} - coalesce(due_date, transaction_date), 0) as days_overdue
    from {{ ref('stg_quickbooks__bills') }}
    where balance > 0
)

select
    source_relation,
    vendor_id,
    max(vendor_name) as vendor_name,
    max(currency_code) as currency_code,
    count(*) as open_bill_count,
    {{ quickbooks_aging_buckets() }},
    sum(home_balance) as total_open_home_balance,
    {{ quickbooks_as_of_date() }} as as_of_date
from open_bills
group by source_relation, vendor_id
