-- The BalanceSheet report as of each month's end (or, for the current month, the day of the
-- load), one row per month and report row label, as stg_quickbooks__profit_and_loss has the
-- ProfitAndLoss report. A blank cell is 0.
with report_rows as (
    {{ quickbooks_report_rows('balance_sheet_report', 'report_month', {'AsOfDate': 'as_of_date_text'}) }}
)

select
    source_relation,
    report_month || ':' || row_label as balance_sheet_row_id,
    report_month,
    as_of_date_text::date as as_of_date,
    accounting_method,
    row_label,
    amount,
    _loaded_at
from report_rows
