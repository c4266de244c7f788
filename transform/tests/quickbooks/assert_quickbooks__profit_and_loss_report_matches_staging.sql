-- The monthly P&L mart carries every report row of every day, to the cent.
with staged as (
    select source_relation, date_trunc('month', report_date)::date as report_month, row_label, sum(amount) as amount
    from {{ ref('stg_quickbooks__profit_and_loss') }}
    group by 1, 2, 3
),

mart as (
    select source_relation, report_month, row_label, amount from {{ ref('quickbooks__profit_and_loss_report') }}
)

select
    coalesce(mart.source_relation, staged.source_relation) as source_relation,
    coalesce(mart.report_month, staged.report_month) as report_month,
    coalesce(mart.row_label, staged.row_label) as row_label,
    mart.amount as mart_amount,
    staged.amount as staged_amount
from mart
full outer join staged
    on mart.source_relation = staged.source_relation
    and mart.report_month = staged.report_month
    and mart.row_label = staged.row_label
where mart.amount is distinct from staged.amount
