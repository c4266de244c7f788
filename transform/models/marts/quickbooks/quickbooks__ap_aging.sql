-- Accounts payable aging, beside the A/R aging: each vendor's open bill balances by days past
-- due (a bill without a due date is due on its date). Bills only: unapplied vendor credits are
-- not netted in (QuickBooks' own A/P Aging report shows them as negative amounts).
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
    count(*) as open_bill_count,
    {{ quickbooks_aging_buckets() }},
    {{ quickbooks_as_of_date() }} as as_of_date
from open_bills
group by source_relation, vendor_id
