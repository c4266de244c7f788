{# The tap sends singer.decimal amounts as text ("522.0"), a few fields as numbers; blank = none. #}
{% macro quickbooks_money(expression) -%}
    nullif(trim(({{ expression }})::text), '')::numeric(18, 2)
{%- endmacro %}

{# Rates, quantities and unit prices keep their full precision. #}
{% macro quickbooks_decimal(expression) -%}
    nullif(trim(({{ expression }})::text), '')::numeric
{%- endmacro %}

{# The tap turns every date-time into UTC ("…T19:00:00.000000Z") before it reaches jsonb. #}
{% macro quickbooks_timestamp(expression) -%}
    nullif({{ expression }}, '')::timestamptz
{%- endmacro %}

{# QuickBooks references are {"value": id, "name": label}. #}
{% macro quickbooks_ref_id(column, path='') -%}
    {{ column }}{{ path }} ->> 'value'
{%- endmacro %}

{% macro quickbooks_ref_name(column, path='') -%}
    {{ column }}{{ path }} ->> 'name'
{%- endmacro %}

{# The as-of day for overdue/aging figures: var quickbooks_as_of_date, else today. #}
{% macro quickbooks_as_of_date() -%}
    {%- set as_of = var('quickbooks_as_of_date', none) -%}
    {%- if as_of -%} '{{ as_of }}'::date {%- else -%} current_date {%- endif -%}
{%- endmacro %}
