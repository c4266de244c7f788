-- The ProfitAndLoss report (accrual) rolled up from days to calendar months: one row per month
-- and report row. Account rows carry the account they name; the report's subtotal and total
-- rows (Total Income, Gross Profit, Net Income, "Total <parent account>", …) are kept and
-- flagged, so a month's figures can be read straight from the mart.
with report_days as (
    select * from {{ ref('stg_quickbooks__profit_and_loss') }}
),

-- Report rows name accounts by their name; only names used by one account can be matched.
accounts as (
    select
        source_relation,
        account_name,
        min(account_id) as account_id,
        min(account_type) as account_type,
        min(classification) as classification
    from {{ ref('stg_quickbooks__accounts') }}
    group by source_relation, account_name
    having count(*) = 1
),

monthly as (
    select
        source_relation,
        date_trunc('month', report_date)::date as report_month,
        row_label,
        max(accounting_method) as accounting_method,
        sum(amount) as amount,
        count(*) as day_count
    from report_days
    group by 1, 2, 3
)

select
    monthly.source_relation,
    monthly.report_month || ':' || monthly.row_label as profit_and_loss_id,
    monthly.report_month,
    monthly.row_label,
    case
        when accounts.account_id is not null then 'account'
        when monthly.row_label like 'Total %'
            or monthly.row_label in ('Gross Profit', 'Net Operating Income', 'Net Other Income', 'Net Income')
            then 'total'
        else 'unmatched'
    end as row_type,
    accounts.account_id,
    accounts.account_type,
    accounts.classification,
    monthly.amount,
    monthly.day_count,
    monthly.accounting_method
from monthly
left join accounts
    on monthly.source_relation = accounts.source_relation
    and monthly.row_label = accounts.account_name
