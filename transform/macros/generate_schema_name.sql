{#
    Models land in the schema named by their folder's +schema (staging, intermediate, marts),
    not dbt's default "<target schema>_<custom schema>". The scratch target keeps the prefix so
    a developer's build never replaces the shared schemas.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name == 'scratch' -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
