{#
    What each line of a payment form (Payment, BillPayment) settles: one row per line. A line names
    the transaction it settles in LinkedTxn (a Payment's: an Invoice, or a CreditMemo/JournalEntry
    used as credit; a BillPayment's: a Bill, or a VendorCredit/JournalEntry used as credit).
    QuickBooks gives each line exactly one LinkedTxn; the key (parent id + line position) breaks if not.
#}
{% macro quickbooks_payment_lines(table_name, entity_type, parent_id_name) %}
with lines as (
    {{ quickbooks_form_lines(table_name, entity_type) }}
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
        parent_id || '-' || line_position as {{ parent_id_name | replace('_id', '') }}_line_id,
        parent_id as {{ parent_id_name }},
        line_position,
        transaction_date::date as transaction_date,
        linked_txn ->> 'TxnId' as linked_transaction_id,
        linked_txn ->> 'TxnType' as linked_transaction_type,
        {{ quickbooks_money("item ->> 'Amount'") }} as amount,
        _loaded_at
    from linked
)

select * from renamed
{% endmacro %}
