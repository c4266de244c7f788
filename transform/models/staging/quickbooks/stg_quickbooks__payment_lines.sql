{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'payment_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('payments', 'Payment', 'payment_id') }}") }}
-- What each payment was applied to: one row per payment line. A line names the transaction it
-- settles in LinkedTxn (an Invoice, or a CreditMemo/JournalEntry used as credit). QuickBooks
-- gives each line exactly one LinkedTxn; the key (payment_id + line position) breaks if not.
with payments as (
    {{ quickbooks_changed_rows('payments', 'Payment') }}
),

lines as (
    select
        payments.source_relation,
        payments."Id" as payment_id,
        payments."TxnDate" as transaction_date,
        payments._sdc_batched_at as _loaded_at,
        line.line_position::integer as line_position,
        line.line_item as item
    from payments
    cross join lateral unnest(payments."Line") with ordinality as line(line_item, line_position)
),

linked as (
    select
        lines.*,
        linked_txn.value as linked_txn
    from lines
    left join lateral jsonb_array_elements(
        case when jsonb_typeof(lines.item -> 'LinkedTxn') = 'array' then lines.item -> 'LinkedTxn' end
    ) as linked_txn on true
),

renamed as (
    select
        source_relation,
        payment_id || '-' || line_position as payment_line_id,
        payment_id,
        line_position,
        transaction_date::date as transaction_date,
        linked_txn ->> 'TxnId' as linked_transaction_id,
        linked_txn ->> 'TxnType' as linked_transaction_type,
        {{ quickbooks_money("item ->> 'Amount'") }} as amount,
        _loaded_at
    from linked
)

select * from renamed
