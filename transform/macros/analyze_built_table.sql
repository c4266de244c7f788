{#
    A post-hook on every model (dbt_project.yml): a model built as a table (or incremental) is
    analyzed before its tests and the models downstream read it. A table dbt has just created has
    no statistics until autovacuum gets round to it, and a plan made without them can be slower by
    orders of magnitude (the raw tables' case: the loader analyzes those, load/…/sinks.py). Views
    have no statistics of their own: nothing to do.
#}
{% macro analyze_built_table() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
