{#
    A QuickBooks report as the wrapper and the tap load it (one row per report date whose
    "Details" maps each report row's label, an account name or a summary such as "Total Income",
    to its amount as text), unpivoted: one row per report date and label, from the newest load of
    each date. `date_column`: the report date's name in the model; `columns`: more of the
    report's own columns to keep, {raw name: model name}. A blank cell is 0.
#}
{% macro quickbooks_report_rows(stream, date_column, columns={}) %}
with source as (
    select
        *,
        row_number() over (
            partition by source_relation, "ReportDate" order by _sdc_batched_at desc, _sdc_sequence desc
        ) as row_rank
    from ({{ instance_rows('quickbooks', stream) }}) as report
)

select
    source.source_relation,
    source."ReportDate"::date as {{ date_column }},
    {%- for raw_name, name in columns.items() %}
    source."{{ raw_name }}" as {{ name }},
    {%- endfor %}
    source."AccountingMethod" as accounting_method,
    detail.key as row_label,
    coalesce({{ quickbooks_money('detail.value') }}, 0) as amount,
    source._sdc_batched_at as _loaded_at
from source
cross join lateral jsonb_each_text(
    case when jsonb_typeof(source."Details") = 'object' then source."Details" else '{}'::jsonb end
) as detail(key, value)
where source.row_rank = 1
{% endmacro %}
