-- The BalanceSheet report as of each month's end (or, for the current month, the day of the
-- load), unpivoted to one row per month and report row label, as stg_quickbooks__profit_and_loss
-- does the ProfitAndLoss report. A blank cell is 0.
with source as (
    select
        *,
        row_number() over (
            partition by source_relation, "ReportDate" order by _sdc_batched_at desc, _sdc_sequence desc
        ) as row_rank
    from ({{ instance_rows('quickbooks', 'balance_sheet_report') }}) as report
),

unpivoted as (
    select
        source.source_relation,
        source."ReportDate"::date as report_month,
        source."AsOfDate"::date as as_of_date,
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
    report_month || ':' || row_label as balance_sheet_row_id,
    report_month,
    as_of_date,
    accounting_method,
    row_label,
    coalesce({{ quickbooks_money('raw_amount') }}, 0) as amount,
    _loaded_at
from unpivoted
