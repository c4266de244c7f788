{#
    Lines of a purchase form (Bill, Purchase): AccountBasedExpenseLineDetail posts to an account,
    ItemBasedExpenseLineDetail buys an item (posting to the item's expense/asset account).
#}
{% macro quickbooks_expense_lines(table_name, entity_type, parent_id_name) %}
with headers as (
    {{ quickbooks_changed_rows(table_name, entity_type) }}
),

lines as (
    select
        headers.source_relation,
        headers."Id" as parent_id,
        headers."TxnDate" as transaction_date,
        headers._sdc_batched_at as _loaded_at,
        line.line_position::integer as line_position,
        line.line_item as item,
        coalesce(
            line.line_item -> 'AccountBasedExpenseLineDetail',
            line.line_item -> 'ItemBasedExpenseLineDetail'
        ) as detail
    from headers
    cross join lateral unnest(headers."Line") with ordinality as line(line_item, line_position)
),

renamed as (
    select
        source_relation,
        parent_id || '-' || line_position as {{ parent_id_name | replace('_id', '') }}_line_id,
        parent_id as {{ parent_id_name }},
        line_position,
        item ->> 'Id' as source_line_id,
        transaction_date::date as transaction_date,
        item ->> 'DetailType' as detail_type,
        item ->> 'Description' as description,
        {{ quickbooks_money("item ->> 'Amount'") }} as amount,
        {{ quickbooks_ref_id("item", "-> 'AccountBasedExpenseLineDetail' -> 'AccountRef'") }} as account_id,
        {{ quickbooks_ref_name("item", "-> 'AccountBasedExpenseLineDetail' -> 'AccountRef'") }} as account_name,
        {{ quickbooks_ref_id("item", "-> 'ItemBasedExpenseLineDetail' -> 'ItemRef'") }} as item_id,
        {{ quickbooks_ref_name("item", "-> 'ItemBasedExpenseLineDetail' -> 'ItemRef'") }} as item_name,
        {{ quickbooks_decimal("item -> 'ItemBasedExpenseLineDetail' ->> 'Qty'") }} as quantity,
        {{ quickbooks_decimal("item -> 'ItemBasedExpenseLineDetail' ->> 'UnitPrice'") }} as unit_price,
        {{ quickbooks_ref_id("detail", "-> 'CustomerRef'") }} as billable_customer_id,
        detail ->> 'BillableStatus' as billable_status,
        {{ quickbooks_ref_id("detail", "-> 'ClassRef'") }} as class_id,
        {{ quickbooks_ref_id("detail", "-> 'TaxCodeRef'") }} as tax_code_id,
        _loaded_at
    from lines
)

select * from renamed
{% endmacro %}
