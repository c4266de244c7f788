{#
    Each line of each form the last load changed (quickbooks_changed_rows), in order: one row per
    element of the form's "Line" array, with its position (1 = first), the form's id and date and
    when it was loaded. The shared start of every QuickBooks line table; each names the detail it
    reads from `item` (the line's JSON).
#}
{% macro quickbooks_form_lines(table_name, entity_type) %}
    select
        headers.source_relation,
        headers."Id" as parent_id,
        headers."TxnDate" as transaction_date,
        headers._sdc_batched_at as _loaded_at,
        line.line_position::integer as line_position,
        line.line_item as item
    from ({{ quickbooks_changed_rows(table_name, entity_type) }}) as headers
    cross join lateral unnest(headers."Line") with ordinality as line(line_item, line_position)
{% endmacro %}
