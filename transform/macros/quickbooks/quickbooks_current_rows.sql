{#
    The current version of every QuickBooks entity in a raw table: one row per "Id" (the newest
    by MetaData.LastUpdatedTime, then by load), minus entities deleted in QuickBooks.

    target-postgres upserts on "Id", so duplicates should not exist; the ranking is a guard for
    re-created tables or a changed key. The tap never removes a deleted entity from its own
    table: the deletion only arrives in deleted_objects (from the CDC endpoint). A row is dropped
    when a deletion of the same ("Type", "Id") is at least as new as the row itself; a newer row
    means the entity was changed again after that deletion record, so it is kept.

    Every company's rows (macros/instances.sql: raw_quickbooks, raw_quickbooks_<company>), each
    with its `source_relation`; an entity is (source_relation, "Id"), since ids repeat across
    companies, and a deletion removes the entity of its own company. `only_keys` (a select of
    source_relation and "Id") limits it to those entities: how an incremental model reads only
    what changed (`quickbooks_changed_ids` below).
#}
{% macro quickbooks_current_rows(table_name, entity_type, only_keys=none) %}
    -- distinct on, not row_number() = 1: the planner estimates it as one row per "Id" (from the
    -- column's statistics); a rank filter it guesses at 0.5% of the rows, and then joins the
    -- result by nested loops (a mart took 23 s instead of 1 at a million records).
    select current_rows.*
    from (
        select distinct on (raw.source_relation, raw."Id") raw.*
        from ({{ instance_rows('quickbooks', table_name) }}) as raw
        where raw._sdc_deleted_at is null
        {%- if only_keys %}
            and (raw.source_relation, raw."Id") in ({{ only_keys }})
        {%- endif %}
        order by
            raw.source_relation,
            raw."Id",
            (raw."MetaData" ->> 'LastUpdatedTime')::timestamptz desc nulls last,
            raw._sdc_batched_at desc nulls last,
            raw._sdc_sequence desc nulls last
    ) as current_rows
    where not exists (
            select 1
            from {{ ref('stg_quickbooks__deleted_objects') }} as deleted
            where deleted.source_relation = current_rows.source_relation
                and deleted.entity_type = '{{ entity_type }}'
                and deleted.entity_id = current_rows."Id"
                and deleted.deleted_at >= coalesce(
                    (current_rows."MetaData" ->> 'LastUpdatedTime')::timestamptz, '-infinity'::timestamptz
                )
        )
{% endmacro %}

{#
    The entities of one type the loader wrote since the incremental model's watermark (`since`, an
    SQL timestamp): changed rows, and entities whose deletion QuickBooks' change-data-capture
    reported since, as (source_relation, "Id"). A row the model already built from that very load
    (its rows carry the raw row's _sdc_batched_at as _loaded_at, and the entity's id in
    `built_id_column`, by default the last column of its unique_key) is not read again: the late
    window is for rows a build may have missed, and after a first load whose last two minutes
    wrote a whole table (313,000 sales receipt lines at 266,000 QuickBooks records), every build
    re-read all of it. `type_column`: for a model holding several entity types (the postings),
    the column that names the type.
#}
{% macro quickbooks_changed_ids(table_name, entity_type, built_id_column=none, type_column=none, since=none) -%}
    {%- set built_id_column = built_id_column or config.get('unique_key')[-1] -%}
    select source_relation, "Id" from ({{ instance_rows('quickbooks', table_name) }}) as changed
    where {{ loaded_since_watermark('changed', since) }}
        and not exists (
            select 1 from {{ this }} as built
            where built.source_relation = changed.source_relation
                and built.{{ built_id_column }} = changed."Id"
                {%- if type_column %}
                and built.{{ type_column }} = '{{ entity_type }}'
                {%- endif %}
                and built._loaded_at = changed._sdc_batched_at
                and changed._sdc_deleted_at is null   -- a deletion is always applied
        )
    union
    select source_relation, "Id" from ({{ instance_rows('quickbooks', 'deleted_objects') }}) as deleted
    where "Type" = '{{ entity_type }}' and {{ loaded_since_watermark(since=since) }}
{%- endmacro %}

{# The current rows of the entities an incremental model rebuilds (all of them on a full build). #}
{% macro quickbooks_changed_rows(table_name, entity_type) -%}
    {{ quickbooks_current_rows(table_name, entity_type,
                               only_keys=quickbooks_changed_ids(table_name, entity_type) if is_incremental() else none) }}
{%- endmacro %}

{# The pre-hook of an incremental line model: drop the lines of the changed entities. #}
{% macro quickbooks_delete_changed_lines(table_name, entity_type, parent_id_name) -%}
    {{ incremental_delete_changed('(source_relation, ' ~ parent_id_name ~ ')', quickbooks_changed_ids(table_name, entity_type)) }}
{%- endmacro %}
