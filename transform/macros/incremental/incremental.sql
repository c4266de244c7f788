{#
    Incremental models: an hourly job rebuilds what the loader changed since the model's last
    build, not all of history. One pattern for every source:

      * the watermark: the newest `_loaded_at` (the loader's _sdc_batched_at) the model already
        holds, less `incremental_late_minutes`; read once, when the model is compiled, so the
        pre-hook and the model's select see the same one;
      * a pre-hook deletes the model's rows of every key whose raw row the loader wrote or marked
        deleted since the watermark (`incremental_delete_changed`), and the model's select inserts
        the current rows of those keys (`loaded_since_watermark`): a changed key is replaced, a
        deleted key leaves, nothing else is touched; both in the model's one transaction;
      * `on_schema_change: fail`: a model whose columns a new version changes stops, naming the
        model, until it is rebuilt with `--full-refresh` (which rebuilds from all of history, and
        gives the same rows: tests/e2e/test_shopify_pipeline.py compares them).

    Why a late window: the loader stamps _sdc_batched_at as it writes each batch, so one loader's
    batches of a table commit in stamp order and a build sees a prefix of them; a second loader
    writing the same table beside a build (a hand run beside a schedule), or another machine's
    clock, could commit an earlier stamp after it. Re-reading the two minutes before the watermark
    covers both; an hourly job re-reads little more than what changed.
    Deletions count as writes: ACTIVATE_VERSION stamps _sdc_deleted_at with the load's time, a
    tombstone moves _sdc_batched_at (load/target-postgres-wrapper, sinks.py).
#}
{% macro incremental_watermark() -%}
    {%- if execute and is_incremental() -%}
        {%- set newest = run_query("select max(_loaded_at)::text from " ~ this).columns[0].values()[0] -%}
        {%- if newest is none -%}
            '-infinity'::timestamp
        {%- else -%}
            ('{{ newest }}'::timestamp - interval '{{ var("incremental_late_minutes") | int }} minutes')
        {%- endif -%}
    {%- else -%}
        '-infinity'::timestamp
    {%- endif -%}
{%- endmacro %}

{# Raw rows the loader wrote or marked deleted since the watermark (every row on a full build). #}
{% macro loaded_since_watermark(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    greatest({{ prefix }}_sdc_batched_at, {{ prefix }}_sdc_deleted_at) >= {{ incremental_watermark() }}
{%- endmacro %}

{#
    The pre-hook: delete this model's rows of the keys `changed_keys_sql` (a select of one column)
    names. Nothing on a full build, where the table is made anew.
#}
{% macro incremental_delete_changed(key_column, changed_keys_sql) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ key_column }} in ({{ changed_keys_sql }})
    {%- endif -%}
{%- endmacro %}
