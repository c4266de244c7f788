-- The general ledger: every posting of every transaction, with its account and the account's
-- running balance (debits positive) in the order QuickBooks lists them: by date, then transaction.
-- A view over the postings table, not a table of its own: a build costs nothing here (as a table
-- it rewrote every posting with its running balance on every build: 9.4 s of the quickbooks build
-- at 1.59M postings), and the running balance is worked out only by the queries that read it
-- (PostgreSQL leaves the window out of a query that does not: the trial balance, the tests).
-- A query for one account is fast (the filter reaches the postings); one for a period computes
-- every account's balances first (3 to 5 s at 1.59M postings).
{{ config(materialized='view') }}
with postings as (
    select * from {{ ref('int_quickbooks__postings') }}
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
)

select
    postings.source_relation,
    postings.posting_id,
    postings.transaction_type,
    postings.transaction_id,
    postings.posting_key,
    postings.transaction_date,
    postings.doc_number,
    postings.account_id,
    accounts.account_name,
    accounts.account_number,
    accounts.account_type,
    accounts.account_sub_type,
    accounts.classification as account_classification,
    {{ quickbooks_financial_statement('accounts.account_type') }} as financial_statement,
    postings.amount,
    greatest(postings.amount, 0) as debit_amount,
    greatest(-postings.amount, 0) as credit_amount,
    sum(postings.amount) over (
        partition by postings.source_relation, postings.account_id
        order by postings.transaction_date, postings.transaction_type, postings.transaction_id, postings.posting_key
        rows between unbounded preceding and current row
    ) as running_balance,
    postings.transaction_amount,
    postings.transaction_currency,
    postings.exchange_rate,
    postings.customer_id,
    postings.vendor_id,
    postings.class_id,
    postings.department_id,
    postings.description
from postings
left join accounts
    on postings.source_relation = accounts.source_relation
    and postings.account_id = accounts.account_id
