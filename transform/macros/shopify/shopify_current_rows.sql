{#
    The current version of every row of a raw Shopify table: the newest load per key, unless
    that version is marked deleted.

    target-postgres upserts on the key ("id", the GID), so a table should hold one row per key;
    the ranking guards against a re-created table or a changed key. Incremental streams (orders,
    customers, the catalogue) re-send a record whenever its updatedAt moves; the full-table
    streams (locations, inventory levels) re-send every row on each run.

    `only_keys` (a select of keys) limits it to those keys, before the ranking: how an incremental
    model reads only the rows that changed.
#}
{% macro shopify_current_rows(table_name, key_column='id', only_keys=none) %}
    select ranked.*
    from (
        select
            raw.*,
            row_number() over (
                partition by raw.{{ key_column }}
                order by raw._sdc_batched_at desc nulls last, raw._sdc_sequence desc nulls last
            ) as _shopify_row_rank
        from {{ source('shopify', table_name) }} as raw
        {% if only_keys -%}
        where raw.{{ key_column }} in ({{ only_keys }})
        {%- endif %}
    ) as ranked
    where ranked._shopify_row_rank = 1
        and ranked._sdc_deleted_at is null
{% endmacro %}
