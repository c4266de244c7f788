-- The cash-basis ProfitAndLoss report by month (or, for the current month, to the day of the
-- load), one row per month and report row label, as stg_quickbooks__balance_sheet has the
-- BalanceSheet report. A blank cell is 0.
with report_rows as (
    {{ quickbooks_report_rows('profit_loss_cash_report', 'report_month', {'AsOfDate': 'end_date_text'}) }}
)

select
    source_relation,
    report_month || ':' || row_label as profit_and_loss_row_id,
    report_month,
    end_date_text::date as end_date,
    accounting_method,
    row_label,
    amount,
    _loaded_at
from report_rows
