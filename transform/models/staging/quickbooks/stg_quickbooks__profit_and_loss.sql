-- The tap flattens QuickBooks' daily ProfitAndLoss report into one row per day whose "Details"
-- maps each row label (an account name, or a summary such as "Total Income") to that day's
-- amount. Unpivoted here to one row per day and label. A blank cell means no activity: 0.
with source as (
    select
        *,
        row_number() over (
            partition by source_relation, "ReportDate" order by _sdc_batched_at desc, _sdc_sequence desc
        ) as row_rank
    from ({{ instance_rows('quickbooks', 'profit_loss_report') }}) as report
),

unpivoted as (
    select
        source.source_relation,
        source."ReportDate"::date as report_date,
        source."AccountingMethod" as accounting_method,
        detail.key as row_label,
        detail.value as raw_amount,
        source._sdc_batched_at as _loaded_at
    from source
    cross join lateral jsonb_each_text(
        case when jsonb_typeof(source."Details") = 'object' then source."Details" else '{}'::jsonb end
    ) as detail(key, value)
    where source.row_rank = 1
)

select
    source_relation,
    report_date || ':' || row_label as profit_and_loss_id,
    report_date,
    accounting_method,
    row_label,
    coalesce({{ quickbooks_money('raw_amount') }}, 0) as amount,
    _loaded_at
from unpivoted
