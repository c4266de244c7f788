{#
    Incremental models: a scheduled job rebuilds what the loader changed since the model's last
    build, not all of history. One pattern for every source:

      * the watermark: the newest `_loaded_at` the model holds (the loader's _sdc_batched_at, which
        moves only when the loader writes a change to a row: load/…/sinks.py), less
        `incremental_late_minutes` (2);
      * a pre-hook locks the model's table (a second build of it waits) and deletes its rows of
        every key the loader wrote or marked deleted since the watermark
        (`incremental_delete_changed`: a deleted key leaves); the model's select reads the
        current rows of those keys (`loaded_since_watermark`), and dbt's delete+insert strategy
        replaces each key it selected (`unique_key`), so a key a load changed between the two
        statements is replaced, not doubled; all in the model's one transaction;
      * the model's code: each build records a digest of the model's SQL and of every macro it
        calls in the table's comment; when the code has changed since, the next build rebuilds the
        whole table in place (no row built by the old code stays). `on_schema_change: fail`: a model
        whose columns change (a new version, a vendor's retyped field) stops naming the model until
        `meltano invoke dbt:build_<source> --full-refresh`;
      * `--full-refresh` rebuilds from all of history and gives the same rows
        (tests/e2e/test_<source>_pipeline.py compare them after changes and deletions).

    Why a late window: one loader writes a table's batches one after the other, each stamped as it
    is written, so a build sees a prefix of them; but a model can read two tables (QuickBooks lines
    and deleted_objects) whose batches commit in parallel, and a second loader (a hand run beside
    a schedule) can commit an earlier stamp after a later one. Re-reading the two minutes before
    the watermark covers those; an hourly job re-reads little more than what changed. QuickBooks'
    line tables and its postings also skip, within the window, a row they already built from that
    very load (quickbooks_changed_ids): a first load's last two minutes can be a whole table.
    Deletions count as writes: ACTIVATE_VERSION stamps _sdc_deleted_at with the load's time, a
    tombstone moves _sdc_batched_at.
#}

{# A digest of the model's code: its SQL, every macro it calls, directly or not, and the instances it reads. #}
{% macro incremental_code_digest() -%}
    {%- set ns = namespace(frontier=model.depends_on.macros | list, seen=[], models=[], model_frontier=model.depends_on.nodes | list) -%}
    {#- The models it reads, and theirs, are its code too: a fix to how a staging view reads a
        field rebuilds the tables built from it (a table built once and then only by what changed
        would keep the old reading for every row that does not change again). Their macros count. -#}
    {%- for depth in range(20) -%}
        {%- set next_models = [] -%}
        {%- for node_id in ns.model_frontier if node_id.startswith('model.') and node_id not in ns.models and node_id in graph.nodes -%}
            {%- do ns.models.append(node_id) -%}
            {%- do next_models.extend(graph.nodes[node_id].depends_on.nodes) -%}
            {%- do ns.frontier.extend(graph.nodes[node_id].depends_on.macros) -%}
        {%- endfor -%}
        {%- set ns.model_frontier = next_models -%}
    {%- endfor -%}
    {%- for depth in range(10) -%}
        {%- set next_frontier = [] -%}
        {%- for macro_id in ns.frontier if macro_id not in ns.seen -%}
            {%- do ns.seen.append(macro_id) -%}
            {%- set called = incremental_macro(macro_id) -%}
            {%- if called -%}{%- do next_frontier.extend(called.depends_on.macros) -%}{%- endif -%}
        {%- endfor -%}
        {%- set ns.frontier = next_frontier -%}
    {%- endfor -%}
    {%- set texts = [model.raw_code] -%}
    {#- The instances it reads (macros/instances.sql): a shop added or removed rebuilds the table. -#}
    {%- for source_name in model.sources | map('first') | unique | sort -%}
        {%- if instance_schemas(source_name) != [instance_default_schema(source_name)] -%}
            {%- do texts.append(source_name ~ ' instances: ' ~ instance_schemas(source_name) | join(',')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for macro_id in ns.seen | sort -%}
        {%- set called = incremental_macro(macro_id) -%}
        {%- do texts.append(macro_id ~ (called.macro_sql if called else '')) -%}
    {%- endfor -%}
    {#- Rules it reads from data, when it names them (config `inputs_digest`: a macro whose query
        gives one text, e.g. the QuickBooks items' accounts every posting follows): when they change,
        every row may change, so they count as code. -#}
    {%- if config.get('inputs_digest') and execute -%}
        {%- do texts.append('inputs: ' ~ run_query(context[config.get('inputs_digest')]()).rows[0][0]) -%}
    {%- endif -%}
    {%- for node_id in ns.models | sort -%}
        {%- do texts.append(node_id ~ ' ' ~ graph.nodes[node_id].checksum.checksum) -%}
    {%- endfor -%}
    {#- The seeds it reads are code too (a mailbox provider added to personal_email_domains). -#}
    {%- for node_id in model.depends_on.nodes | sort if node_id.startswith('seed.') and node_id in graph.nodes -%}
        {%- do texts.append(node_id ~ ' ' ~ graph.nodes[node_id].checksum.checksum) -%}
    {%- endfor -%}
    {{- local_md5(texts | join('\n')) -}}
{%- endmacro %}

{# A macro's definition ("macro.<package>.<name>": its macro_sql, depends_on), or none. #}
{% macro incremental_macro(macro_id) -%}
    {%- set parts = macro_id.split('.') -%}
    {%- set package = context.get(parts[1]) -%}
    {%- set generator = package.get(parts[2]) if package is mapping else none -%}
    {{- return(generator.macro if generator is not none else none) -}}
{%- endmacro %}

{#
    The watermark as a timestamp (UTC, without time zone) in text, or none when the model must
    read everything: a full build, an empty table, or code changed since the table was built.
    `newest` is the SQL of the newest load the model holds, as a UTC timestamp.
#}
{% macro incremental_watermark_value(newest='max(_loaded_at)') -%}
    {%- if not incremental_code_is_current() -%}{{ return(none) }}{%- endif -%}
    {%- set row = run_query(
        "select (" ~ newest ~ " - interval '" ~ (var('incremental_late_minutes') | int) ~ " minutes')::text "
        ~ "from " ~ this).rows[0] -%}
    {{ return(row[0]) }}
{%- endmacro %}

{# True when the table exists, this is not a full build, and its rows were built by today's code. #}
{% macro incremental_code_is_current() -%}
    {%- if not (execute and is_incremental()) -%}{{ return(false) }}{%- endif -%}
    {%- set recorded = run_query(
        "select obj_description('" ~ adapter.quote(this.schema) ~ "." ~ adapter.quote(this.identifier)
        ~ "'::regclass, 'pg_class')").rows[0][0] -%}
    {{ return(recorded == 'tributary-code:' ~ incremental_code_digest()) }}
{%- endmacro %}

{% macro incremental_watermark(newest='max(_loaded_at)') -%}
    {%- set value = incremental_watermark_value(newest) -%}
    {%- if value is none -%}'-infinity'::timestamp{%- else -%}'{{ value }}'::timestamp{%- endif -%}
{%- endmacro %}

{#
    Raw rows the loader wrote or marked deleted since the watermark (every row on a full build);
    `since`: the watermark as SQL, when the caller has read it already.
#}
{% macro loaded_since_watermark(relation_alias=none, since=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    greatest({{ prefix }}_sdc_batched_at, {{ prefix }}_sdc_deleted_at) >= {{ since or incremental_watermark() }}
{%- endmacro %}

{#
    An incremental build's first step: hold the table against a second build of it (another
    company's job, a hand run) until this build commits, so two builds never interleave their
    deletes and inserts. Nothing on a full build, where the table is made anew.
#}
{% macro incremental_lock() -%}
    {%- if is_incremental() -%}lock table {{ this }} in exclusive mode{%- endif -%}
{%- endmacro %}

{#
    The pre-hook: lock the table, then delete its rows of the keys `changed_keys_sql` (a select
    of `key_column`) names, or all of them when the code changed. Nothing on a full build, where
    the table is made anew.
#}
{% macro incremental_delete_changed(key_column, changed_keys_sql, newest='max(_loaded_at)') -%}
    {%- if is_incremental() -%}
        {{ incremental_lock() }};
        {% if incremental_watermark_value(newest) is none -%}
        delete from {{ this }}
        {%- else -%}
        delete from {{ this }} where {{ key_column }} in ({{ changed_keys_sql }})
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{# A post-hook on every model (dbt_project.yml): an incremental table records its code's digest. #}
{% macro incremental_record_code() -%}
    {%- if config.get('materialized') == 'incremental' -%}
        comment on table {{ this }} is 'tributary-code:{{ incremental_code_digest() }}'
    {%- endif -%}
{%- endmacro %}

{#
    The second pattern, for models computed row by row from other models (the identity contacts:
    every e-mail and phone normalised, 25 s of CPU at 1M records). Their inputs are models built
    by other jobs at other times, so no one load stamp orders them; instead each row keeps
    `input_digest`, an md5 of the input row it was computed from, and a build
      * deletes the rows whose input changed or is gone (`incremental_delete_stale`, a pre-hook),
      * computes the input rows whose digest the table does not hold (`incremental_not_built`),
    so a build costs one hash per input row plus what changed, and is exact whatever ran when.
    `records_sql` selects the input rows with their key column and `input_digest`.
#}
{% macro incremental_delete_stale(key_column, records_sql) -%}
    {%- if is_incremental() -%}
        {{ incremental_lock() }};
        {% if not incremental_code_is_current() -%}
        delete from {{ this }}
        {%- else -%}
        delete from {{ this }} as built
        where not exists (
            select from ({{ records_sql }}) as records
            where records.{{ key_column }} = built.{{ key_column }} and records.input_digest = built.input_digest
        )
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{# An input row's digest: md5 of its text form (every column, nulls included). #}
{% macro incremental_input_digest(row_alias) -%}
    md5({{ row_alias }}::text)
{%- endmacro %}

{# A filter on the input rows `alias`: those whose key and digest the table does not hold yet. #}
{% macro incremental_not_built(key_column, alias) -%}
    {%- if incremental_code_is_current() -%}
        not exists (
            select from {{ this }} as built
            where built.{{ key_column }} = {{ alias }}.{{ key_column }} and built.input_digest = {{ alias }}.input_digest
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
