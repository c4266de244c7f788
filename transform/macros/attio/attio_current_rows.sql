{#
    The current version of every row of a raw Attio table: the newest load per key, unless that
    version is marked deleted.

    Every Attio stream is FULL_TABLE with ACTIVATE_VERSION: target-postgres upserts on the key and
    stamps _sdc_deleted_at on rows a complete run no longer sent (deleted in Attio). Rows are
    ranked before deletions are applied, so a deleted record never falls back to an older
    version; the ranking itself is a guard for a re-created table or a changed key.
#}
{% macro attio_current_rows(table_name, key_column) %}
    select ranked.*
    from (
        select
            raw.*,
            row_number() over (
                partition by raw.{{ key_column }}
                order by raw._sdc_batched_at desc nulls last, raw._sdc_sequence desc nulls last
            ) as _attio_row_rank
        from {{ source('attio', table_name) }} as raw
    ) as ranked
    where ranked._attio_row_rank = 1
        and ranked._sdc_deleted_at is null
{% endmacro %}
