{#
    The current version of every row of a raw Shopify table: the newest load per key, unless
    that version is marked deleted.

    target-postgres upserts on the key ("id", the GID), so a table should hold one row per key;
    the ranking guards against a re-created table or a changed key. Incremental streams (orders,
    customers, the catalogue) re-send a record whenever its updatedAt moves; the full-table
    streams (locations, inventory levels) re-send every row on each run.

    Every instance's rows (macros/instances.sql), each with its `source_relation`; a key is
    (source_relation, key_column). `only_keys` (a select of source_relation and key) limits it to
    those keys, before the ranking: how an incremental model reads only the rows that changed.
#}
{% macro shopify_current_rows(table_name, key_column='id', only_keys=none) %}
    -- distinct on, not row_number() = 1: estimated as one row per key (see quickbooks_current_rows)
    select current_rows.*
    from (
        select distinct on (raw.source_relation, raw.{{ key_column }}) raw.*
        from ({{ instance_rows('shopify', table_name) }}) as raw
        {% if only_keys -%}
        where (raw.source_relation, raw.{{ key_column }}) in ({{ only_keys }})
        {%- endif %}
        order by raw.source_relation, raw.{{ key_column }}, raw._sdc_batched_at desc nulls last,
            raw._sdc_sequence desc nulls last
    ) as current_rows
    where current_rows._sdc_deleted_at is null
{% endmacro %}
