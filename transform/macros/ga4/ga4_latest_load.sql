{#
    The rows of a raw GA4 report table that belong to the latest load of their day: per
    (source_relation, property_id, date), only the rows whose _sdc_sync_started_at is that day's
    newest. Every business's rows (macros/instances.sql: raw_ga4, raw_ga4_<business>), each with
    its `source_relation`.

    Why: each run re-reads the trailing lookback_days and target-postgres upserts on row_key,
    so a restated row replaces its old figures, but a row GA4 no longer returns (folded into
    "(other)", or gone) stays in the table with the old run's figures. A day's rows all come
    from one API request per run, so the newest run that loaded the day holds the whole of it.

    Why _sdc_sync_started_at (the target's start, in epoch ms, the same on every row of a run)
    and not _sdc_batched_at or _sdc_extracted_at: target-postgres flushes every 10,000 rows and
    the tap stamps time_extracted per API page, so one run's rows of one day can carry two
    batch or page times; keeping only the newest would drop live rows of that day.

    A loader run without add_record_metadata leaves the column null: every row is then kept.

    The staging models are incremental by day (macros/incremental): a build reads only the days
    the loader wrote since the last one (each run's look-back window, new days), and the pre-hook
    `ga4_delete_changed_days()` first removes those days' rows, so a restated day is replaced whole.
#}
{% macro ga4_latest_load(table_name) %}
    select ranked.*
    from (
        select
            raw.*,
            max(raw._sdc_sync_started_at) over (
                partition by raw.source_relation, raw.property_id, raw.date
            ) as _ga4_day_latest_load
        from ({{ instance_rows('ga4', table_name) }}) as raw
        {% if is_incremental() -%}
        where (raw.source_relation, raw.property_id, raw.date) in ({{ ga4_changed_days(table_name) }})
        {%- endif %}
    ) as ranked
    where ranked._sdc_sync_started_at is not distinct from ranked._ga4_day_latest_load
{% endmacro %}

{#
    The (source_relation, property_id, date) days of a raw report that a run loaded since the
    model's watermark, changed or not: a run re-reads its look-back days whole, a day's latest
    load is then that run's, and a row GA4 stopped returning has left the day. So a GA4 model's
    watermark is the start of the newest run it holds (`_load_started_at`, the target's start, the
    same on every row of a run; an unchanged row keeps its _sdc_batched_at): a run seen in part is
    re-read whole.

    One watermark per business (source_relation), not one per table: each business's job has a
    lock of its own, so two businesses' loads overlap, and a run stamps its rows with its start. A
    business whose long load started at 06:00 would otherwise be passed over by a build at 06:08
    that holds another business's run of 06:05. A business the table has no rows of yet is read
    whole.
#}
{% macro ga4_changed_days(table_name) -%}
    {#- Read when the SQL is compiled, before the pre-hook deletes the changed days: read after it,
        the newest run would be gone from the table and every older day read again. -#}
    {%- set table_watermark = incremental_watermark_value("max(_load_started_at) at time zone 'UTC'") -%}
    {%- set watermarks = run_query(
        "select source_relation, (max(_load_started_at) at time zone 'UTC' - interval '"
        ~ (var('incremental_late_minutes') | int) ~ " minutes')::text from " ~ this ~ " group by 1").rows
        if table_watermark is not none else [] -%}
    select distinct loaded.source_relation, loaded.property_id, loaded.date
    from ({{ instance_rows('ga4', table_name) }}) as loaded
    {%- if table_watermark is not none %}
    left join (
        values {% for source_relation, watermark in watermarks -%}
            ('{{ source_relation }}', '{{ watermark }}'::timestamp){{ ',' if not loop.last }}
        {%- else -%} (null::text, null::timestamp) {%- endfor %}
    ) as built (source_relation, watermark)
        on built.source_relation = loaded.source_relation
    where to_timestamp(loaded._sdc_sync_started_at / 1000.0) at time zone 'UTC'
        >= coalesce(built.watermark, '-infinity'::timestamp)
    {%- endif %}
{%- endmacro %}

{# The pre-hook of the incremental staging models (stg_ga4__<report>): drop the changed days' rows. #}
{% macro ga4_delete_changed_days() -%}
    {%- set table_name = this.identifier | replace('stg_ga4__', '') -%}
    {{ incremental_delete_changed('(source_relation, property_id, report_date)', ga4_changed_days(table_name),
                                  newest="max(_load_started_at) at time zone 'UTC'") }}
{%- endmacro %}

{# Columns every staging model ends with: GA4's data-loss signals, the currency, load times. #}
{% macro ga4_data_loss_and_load_columns() -%}
    coalesce(is_other_row, false) as is_other_row,
    coalesce(subject_to_thresholding, false) as is_subject_to_thresholding,
    coalesce(data_loss_from_other_row, false) as has_data_loss_from_other_row,
    coalesce(is_sampled, false) as is_sampled,
    currency_code,
    to_timestamp(_sdc_sync_started_at / 1000.0) as _load_started_at,
    _sdc_batched_at as _loaded_at
{%- endmacro %}
