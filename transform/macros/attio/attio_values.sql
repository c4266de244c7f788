{# target-postgres writes the tap's UTC date-times as timestamp without time zone. #}
{% macro attio_utc(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}

{# Trimmed, lower-cased copy of a text[] (e-mails, domains), order kept; blanks dropped. #}
{% macro attio_lower_array(column) -%}
    array(
        select lower(trim(item.element))
        from unnest({{ column }}) with ordinality as item(element, position)
        where nullif(trim(item.element), '') is not null
        order by item.position
    )
{%- endmacro %}

{#
    When the current value of `attribute` was set: active_from of the element of the raw
    values -> attribute history whose active_until is null. If several are open (a multiselect),
    the last one, as the tap picks it for the typed column. Null when the attribute is unset.
#}
{% macro attio_current_value_since(attribute, values_column='"values"') -%}
    (
        select (history.value_object ->> 'active_from')::timestamptz
        from jsonb_array_elements(
            case
                when jsonb_typeof({{ values_column }} -> '{{ attribute }}') = 'array'
                    then {{ values_column }} -> '{{ attribute }}'
                else '[]'::jsonb
            end
        ) with ordinality as history(value_object, position)
        where history.value_object ->> 'active_until' is null
        order by history.position desc
        limit 1
    )
{%- endmacro %}

{# The day days_in_stage and age_days are measured at: var attio_as_of_date, else today. #}
{% macro attio_as_of_date() -%}
    {%- set as_of = var('attio_as_of_date', none) -%}
    {%- if as_of -%} '{{ as_of }}'::date {%- else -%} current_date {%- endif -%}
{%- endmacro %}
