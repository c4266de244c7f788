-- Journal entries: each line as it is, debit or credit.
with lines as (
    select * from {{ ref('stg_quickbooks__journal_entry_lines') }}
),

entries as (
    select * from {{ ref('stg_quickbooks__journal_entries') }}
),

postings as (
    select
        lines.source_relation,
        'JournalEntry' as transaction_type,
        lines.journal_entry_id as transaction_id,
        'line-' || lines.line_position as posting_key,
        entries.transaction_date,
        entries.doc_number,
        lines.account_id,
        lines.debit_minus_credit as transaction_amount,
        entries.currency_code,
        entries.exchange_rate,
        case when lines.entity_type = 'Customer' then lines.entity_id end as customer_id,
        case when lines.entity_type = 'Vendor' then lines.entity_id end as vendor_id,
        lines.class_id,
        lines.department_id,
        lines.description
    from lines
    inner join entries
        on lines.source_relation = entries.source_relation
        and lines.journal_entry_id = entries.journal_entry_id
    where lines.debit_minus_credit <> 0
)

select {{ quickbooks_posting_columns() }} from postings
