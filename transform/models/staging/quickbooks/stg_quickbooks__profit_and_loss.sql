-- The tap flattens QuickBooks' daily ProfitAndLoss report into one row per day (quickbooks_report_rows
-- says how): here one row per day and row label. A blank cell means no activity: 0.
with report_rows as (
    {{ quickbooks_report_rows('profit_loss_report', 'report_date') }}
)

select
    source_relation,
    report_date || ':' || row_label as profit_and_loss_id,
    report_date,
    accounting_method,
    row_label,
    amount,
    _loaded_at
from report_rows
