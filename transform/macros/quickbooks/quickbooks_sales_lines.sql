{#
    Lines of a sales form (Invoice, SalesReceipt, CreditMemo, RefundReceipt, Estimate): they all
    share QuickBooks' SalesItemLineDetail / DiscountLineDetail shape. One row per line, numbered
    by its position in the "Line" array. SubTotalLineDetail lines are left out: they restate the
    sum of the lines above them and would double every total.
    A bundle (GroupLineDetail: a Group item sold as one line) is a row of its own, and each of its
    components a row after it (line id "<form>-<line>.<component>", bundle_item_id set): the
    components are what QuickBooks posts, each to its own item's income account, so sums of item
    lines (SalesItemLineDetail) count them and never the bundle's row.
#}
{% macro quickbooks_sales_lines(table_name, entity_type, parent_id_name) %}
with form_lines as (
    {{ quickbooks_form_lines(table_name, entity_type) }}
),

lines as (
    select form_lines.*, null::integer as component_position, null::text as bundle_item_id
    from form_lines
    union all
    select
        form_lines.source_relation,
        form_lines.parent_id,
        form_lines.transaction_date,
        form_lines._loaded_at,
        form_lines.line_position,
        component.item,
        component.position::integer,
        form_lines.item -> 'GroupLineDetail' -> 'GroupItemRef' ->> 'value'
    from form_lines
    cross join lateral jsonb_array_elements(form_lines.item -> 'GroupLineDetail' -> 'Line')
        with ordinality as component(item, position)
    where form_lines.item ->> 'DetailType' = 'GroupLineDetail'
        and jsonb_typeof(form_lines.item -> 'GroupLineDetail' -> 'Line') = 'array'
),

renamed as (
    select
        source_relation,
        parent_id || '-' || line_position || coalesce('.' || component_position, '')
            as {{ parent_id_name | replace('_id', '') }}_line_id,
        parent_id as {{ parent_id_name }},
        line_position,
        component_position,
        item ->> 'Id' as source_line_id,
        transaction_date::date as transaction_date,
        item ->> 'DetailType' as detail_type,
        item ->> 'Description' as description,
        -- a bundle's own row: its amount, or its components' sum where QuickBooks leaves it out
        coalesce({{ quickbooks_money("item ->> 'Amount'") }},
                 (select sum({{ quickbooks_money("component ->> 'Amount'") }})
                  from jsonb_array_elements(case when jsonb_typeof(item -> 'GroupLineDetail' -> 'Line') = 'array'
                                                 then item -> 'GroupLineDetail' -> 'Line' end) as component)) as amount,
        coalesce({{ quickbooks_ref_id("item", "-> 'SalesItemLineDetail' -> 'ItemRef'") }},
                 {{ quickbooks_ref_id("item", "-> 'GroupLineDetail' -> 'GroupItemRef'") }}) as item_id,
        coalesce({{ quickbooks_ref_name("item", "-> 'SalesItemLineDetail' -> 'ItemRef'") }},
                 {{ quickbooks_ref_name("item", "-> 'GroupLineDetail' -> 'GroupItemRef'") }}) as item_name,
        bundle_item_id,
        coalesce({{ quickbooks_decimal("item -> 'SalesItemLineDetail' ->> 'Qty'") }},
                 {{ quickbooks_decimal("item -> 'GroupLineDetail' ->> 'Quantity'") }}) as quantity,
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
