-- Every posting of every transaction type the pipeline loads, in one table: the general ledger's
-- rows before they meet their accounts (marts/quickbooks/finance/quickbooks__general_ledger).
-- Each type's rules are its macro (macros/quickbooks/quickbooks_postings_by_type.sql), the same
-- code its own view runs (int_quickbooks__<type>_postings).
--
-- Incremental: a scheduled build makes again only the transactions a load changed or deleted
-- (quickbooks_changed_transactions), with their ids written into the query so PostgreSQL reads
-- just those rows (at 1.59M postings the table took 11-13 s to rebuild whole on every build).
-- Each changed transaction also gives one placeholder row (posting_id null): dbt's delete+insert
-- then removes every posting of every transaction the build names, the deleted ones included,
-- and the post-hook removes the placeholders, in the same transaction. When every transaction is
-- built again in place (the code or the posting rules changed, or many transactions did), the
-- placeholders name every transaction the table holds. `--full-refresh` gives the same rows.
-- Its columns follow the code (sync_all_columns, not fail): a code change rebuilds every row.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['source_relation', 'transaction_type', 'transaction_id'],
    on_schema_change='sync_all_columns',
    inputs_digest='quickbooks_posting_rules_digest',
    indexes=[{'columns': ['transaction_id', 'transaction_type', 'source_relation']}],
    pre_hook="{{ incremental_lock() }}",
    post_hook="delete from {{ this }} where posting_id is null",
) }}
{%- set changed = quickbooks_changed_transactions() %}
{%- set every_type = [
    quickbooks_invoice_postings(changed), quickbooks_sales_receipt_postings(changed),
    quickbooks_credit_memo_postings(changed), quickbooks_refund_receipt_postings(changed),
    quickbooks_payment_postings(changed), quickbooks_deposit_postings(changed),
    quickbooks_bill_postings(changed), quickbooks_bill_payment_postings(changed),
    quickbooks_purchase_postings(changed), quickbooks_vendor_credit_postings(changed),
    quickbooks_journal_entry_postings(changed), quickbooks_transfer_postings(changed),
] %}
{%- for postings_of_one_type in every_type %}
select * from ({{ postings_of_one_type }}) as postings
union all
{% endfor %}
-- the placeholders: one per transaction this build replaces (none on a full build)
select
    source_relation, null, transaction_type, transaction_id, null, null, null, null, null, null, null,
    null, null, null, null, null, null, null
from (
    {%- if not is_incremental() %}
    select null::text as source_relation, null::text as transaction_type, null::text as transaction_id where false
    {%- elif changed is none %}
    select distinct source_relation, transaction_type, transaction_id from {{ this }}
    {%- else %}
    select null::text as source_relation, null::text as transaction_type, null::text as transaction_id where false
        {%- for transaction_type, companies in changed.items() | sort %}
            {%- for company, ids in companies.items() | sort %}
    union all
    select {{ quickbooks_literal(company) }}, {{ quickbooks_literal(transaction_type) }}, transaction_id
    from unnest(array[{% for id in ids %}{{ quickbooks_literal(id) }}{{ ', ' if not loop.last }}{% endfor %}]) as transaction_id
            {%- endfor %}
        {%- endfor %}
    {%- endif %}
) as replaced
