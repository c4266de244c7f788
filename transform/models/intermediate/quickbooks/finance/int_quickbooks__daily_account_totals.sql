-- Each account's postings summed by day: what the trial balance and the checks against
-- QuickBooks' ProfitAndLoss report read, instead of every posting (at 266,000 QuickBooks records:
-- some 30,000 rows for 1.59M postings). A table, built once from the postings and read three times.
{{ config(materialized='table') }}
select
    source_relation,
    account_id,
    transaction_date,
    sum(greatest(amount, 0)) as debit_amount,
    sum(greatest(-amount, 0)) as credit_amount,
    sum(amount) as net_change
from {{ ref('int_quickbooks__postings') }}
group by 1, 2, 3
