{#
    The current version of every row of a raw Attio table: the newest load per key, unless that
    version is marked deleted.

    Every Attio stream is FULL_TABLE with ACTIVATE_VERSION: target-postgres upserts on the key and
    stamps _sdc_deleted_at on rows a complete run no longer sent (deleted in Attio). Rows are
    ranked before deletions are applied, so a deleted record never falls back to an older
    version; the ranking itself is a guard for a re-created table or a changed key.

    The staging models are incremental (macros/incremental/): Attio has no updated-at and every
    run re-sends every record, but the loader keeps a row's _sdc_batched_at when it arrives
    unchanged, so a build reads only the records that changed, appeared or were deleted
    (`attio_changed_rows`), after its pre-hook (`attio_delete_changed`) removed their old rows.

    Every workspace's rows (macros/instances.sql: raw_attio, raw_attio_<workspace>), each with its
    `source_relation`; a record is (source_relation, key), the convention of every source here
    (Attio's ids are UUIDs, but a workspace copied into another keeps them).
#}
{% macro attio_current_rows(table_name, key_column, only_keys=none) %}
    -- distinct on, not row_number() = 1: estimated as one row per key (see quickbooks_current_rows)
    select current_rows.*
    from (
        select distinct on (raw.source_relation, raw.{{ key_column }}) raw.*
        from ({{ instance_rows('attio', table_name) }}) as raw
        {% if only_keys -%}
        where (raw.source_relation, raw.{{ key_column }}) in ({{ only_keys }})
        {%- endif %}
        order by raw.source_relation, raw.{{ key_column }}, raw._sdc_batched_at desc nulls last, raw._sdc_sequence desc nulls last
    ) as current_rows
    where current_rows._sdc_deleted_at is null
{% endmacro %}

{# The (source_relation, key) pairs of a raw Attio table the loader wrote or marked deleted since the watermark. #}
{% macro attio_changed_keys(table_name, key_column) -%}
    select source_relation, {{ key_column }} from ({{ instance_rows('attio', table_name) }}) as changed
    where {{ loaded_since_watermark() }}
{%- endmacro %}

{# The current rows an incremental model rebuilds: the changed keys' (every row on a full build). #}
{% macro attio_changed_rows(table_name, key_column) -%}
    {{ attio_current_rows(table_name, key_column,
                          only_keys=attio_changed_keys(table_name, key_column) if is_incremental() else none) }}
{%- endmacro %}

{#
    The pre-hook of an incremental staging model: drop its rows (keyed by source_relation and `model_key`) of the keys
    changed in each raw table of `sources`, a list of (table, key column) pairs.
#}
{% macro attio_delete_changed(model_key, sources) -%}
    {%- set changed = [] -%}
    {%- for table_name, key_column in sources -%}
        {%- do changed.append(attio_changed_keys(table_name, key_column)) -%}
    {%- endfor -%}
    {{ incremental_delete_changed('(source_relation, ' ~ model_key ~ ')', changed | join(' union ')) }}
{%- endmacro %}
