{#
    QuickBooks' own P&L agrees with the transactions in the warehouse: for every month, over
    the days the report covers, "Total Income" equals what the transactions post to Income
    accounts and "Total Other Income" what they post to Other Income accounts (accrual basis,
    by transaction date; see int_quickbooks__revenue_postings_unioned for the rules).
    A mismatch means missing/extra transactions in the warehouse or a report the tap mangled.
#}
with report_days as (
    select distinct source_relation, report_date from {{ ref('stg_quickbooks__profit_and_loss') }}
),

reported as (
    select
        source_relation,
        date_trunc('month', report_date)::date as report_month,
        sum(amount) filter (where row_label = 'Total Income') as total_income,
        sum(amount) filter (where row_label = 'Total Other Income') as total_other_income
    from {{ ref('stg_quickbooks__profit_and_loss') }}
    group by 1, 2
),

posted as (
    select
        postings.source_relation,
        date_trunc('month', postings.transaction_date)::date as report_month,
        sum(postings.amount) filter (where postings.account_type = 'Income') as total_income,
        sum(postings.amount) filter (where postings.account_type = 'Other Income') as total_other_income
    from {{ ref('int_quickbooks__revenue_postings_unioned') }} as postings
    inner join report_days
        on postings.source_relation = report_days.source_relation
        and postings.transaction_date = report_days.report_date
    group by 1, 2
)

select
    coalesce(reported.source_relation, posted.source_relation) as source_relation,
    coalesce(reported.report_month, posted.report_month) as report_month,
    reported.total_income as reported_total_income,
    posted.total_income as posted_total_income,
    reported.total_other_income as reported_total_other_income,
    posted.total_other_income as posted_total_other_income
from reported
full outer join posted
    on reported.source_relation = posted.source_relation
    and reported.report_month = posted.report_month
where coalesce(reported.total_income, 0) <> coalesce(posted.total_income, 0)
    or coalesce(reported.total_other_income, 0) <> coalesce(posted.total_other_income, 0)
