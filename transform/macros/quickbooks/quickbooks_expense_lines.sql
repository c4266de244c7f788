{#
    Lines of a purchase form (Bill, Purchase): AccountBasedExpenseLineDetail posts to an account,
    ItemBasedExpenseLineDetail buys an item (posting to the item's expense/asset account).
#}
{% macro quickbooks_expense_lines(table_name, entity_type, parent_id_name) %}
with form_lines as (
    {{ quickbooks_form_lines(table_name, entity_type) }}
),

lines as (
    select
        form_lines.*,
        coalesce(
            form_lines.item -> 'AccountBasedExpenseLineDetail',
            form_lines.item -> 'ItemBasedExpenseLineDetail'
        ) as detail
    from form_lines
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
