{#
    Money arrives as a MoneyBag {"shopMoney": {"amount": "12.34", "currencyCode": "USD"}}: the
    amount is a decimal string in the shop's currency, exact to the cent. Presentment-currency
    amounts are not extracted. A missing bag is null, not 0: sums decide themselves.
#}
{% macro shopify_money(bag) -%}
    (({{ bag }}) -> 'shopMoney' ->> 'amount')::numeric(18, 2)
{%- endmacro %}

{# A MoneyV2 ({"amount", "currencyCode"}, no shopMoney wrapper): variant prices, unit costs. #}
{% macro shopify_money_v2(money) -%}
    (({{ money }}) ->> 'amount')::numeric(18, 2)
{%- endmacro %}

{#
    The numeric id in a GID ("gid://shopify/LineItem/14100002387000" → 14100002387000), the id
    Shopify's admin, REST API and exports show. The tap sends it as "legacyResourceId" for
    top-level records only; nested records and references carry the GID alone.
    "gid://shopify/InventoryLevel/120000060?inventory_item_id=…" → 120000060.
#}
{% macro shopify_gid_to_id(gid) -%}
    (substring(({{ gid }}) from '^gid://shopify/[A-Za-z]+/([0-9]+)'))::bigint
{%- endmacro %}

{# target-postgres writes a record's top-level date-times (UTC) as timestamp without time zone. #}
{% macro shopify_utc(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}

{# Date-times nested in jsonb keep Shopify's ISO 8601 text ("2025-05-02T18:39:01Z"). #}
{% macro shopify_json_timestamp(expression) -%}
    nullif({{ expression }}, '')::timestamptz
{%- endmacro %}

{#
    Sum of the money in a jsonb array of objects (an item's taxLines, discountAllocations):
    0 for an empty or missing array.
#}
{% macro shopify_sum_money(array_expression, bag_key) -%}
    coalesce((
        select sum({{ shopify_money("element.value -> '" ~ bag_key ~ "'") }})
        from jsonb_array_elements(
            case when jsonb_typeof({{ array_expression }}) = 'array' then {{ array_expression }} else '[]'::jsonb end
        ) as element(value)
    ), 0)
{%- endmacro %}
