{#
    Lines of a sales form (Invoice, SalesReceipt, CreditMemo, RefundReceipt, Estimate): they all
    share QuickBooks' SalesItemLineDetail / DiscountLineDetail shape. One row per line, numbered
    by its position in the "Line" array. SubTotalLineDetail lines are left out: they restate the
    sum of the lines above them and would double every total.
#}
{% macro quickbooks_sales_lines(table_name, entity_type, parent_id_name) %}
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
        line.line_item as item
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
        {{ quickbooks_ref_id("item", "-> 'SalesItemLineDetail' -> 'ItemRef'") }} as item_id,
        {{ quickbooks_ref_name("item", "-> 'SalesItemLineDetail' -> 'ItemRef'") }} as item_name,
        {{ quickbooks_decimal("item -> 'SalesItemLineDetail' ->> 'Qty'") }} as quantity,
        {{ quickbooks_decimal("item -> 'SalesItemLineDetail' ->> 'UnitPrice'") }} as unit_price,
        -- The income account the line posts to; older minor versions omit it (then use the item's).
        {{ quickbooks_ref_id("item", "-> 'SalesItemLineDetail' -> 'ItemAccountRef'") }} as item_account_id,
        {{ quickbooks_ref_id("item", "-> 'SalesItemLineDetail' -> 'TaxCodeRef'") }} as tax_code_id,
        {{ quickbooks_ref_id("item", "-> 'SalesItemLineDetail' -> 'ClassRef'") }} as class_id,
        {{ quickbooks_ref_id("item", "-> 'DiscountLineDetail' -> 'DiscountAccountRef'") }} as discount_account_id,
        {{ quickbooks_decimal("item -> 'DiscountLineDetail' ->> 'DiscountPercent'") }} as discount_percent,
        _loaded_at
    from lines
    where coalesce(item ->> 'DetailType', '') not in ('SubTotalLineDetail', 'SubtotalLineDetail')
)

select * from renamed
{% endmacro %}
