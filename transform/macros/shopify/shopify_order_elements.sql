{#
    One row per element of one of an order's nested arrays (lineItems, shippingLines, refunds,
    transactions, ...), taken from the current version of each order: source_relation, order_id and order_gid,
    the element's 1-based position in the array, and the element itself (jsonb) as `element`.

    Built incrementally (the models that call this are incremental, see macros/incremental): only
    the orders the loader wrote or marked deleted since the model's last build are read, and the
    pre-hook `shopify_delete_changed_orders()` first removes their old elements.

    target-postgres stores these arrays as jsonb[] (PostgreSQL arrays), so they are unnested,
    not read with jsonb_array_elements. The tap pages every nested connection to its end before
    it emits the order (orders with 300+ line items included), so the array is complete.
#}
{% macro shopify_order_elements(array_column) %}
    select
        orders.source_relation,
        orders."legacyResourceId" as order_id,
        orders.id as order_gid,
        orders."createdAt" as order_created_at,
        orders."currencyCode" as order_currency_code,
        nested.position::integer as position,
        nested.element,
        orders._sdc_batched_at
    from ({{ shopify_current_rows('orders', only_keys=shopify_changed_orders('id') if is_incremental() else none) }}) as orders
    cross join lateral unnest(orders."{{ array_column }}") with ordinality as nested(element, position)
{% endmacro %}

{# The orders (source_relation and `column`) the loader wrote or marked deleted since the watermark. #}
{% macro shopify_changed_orders(column='"legacyResourceId"') -%}
    select source_relation, {{ column }} from ({{ instance_rows('shopify', 'orders') }}) as raw where {{ loaded_since_watermark() }}
{%- endmacro %}

{# The pre-hook of the incremental order-element models: drop the changed orders' old elements. #}
{% macro shopify_delete_changed_orders() -%}
    {{ incremental_delete_changed('(source_relation, order_id)', shopify_changed_orders()) }}
{%- endmacro %}
