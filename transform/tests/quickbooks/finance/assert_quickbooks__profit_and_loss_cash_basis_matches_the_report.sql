{#
    The cash-basis profit and loss built from the ledger and the payments agrees with QuickBooks'
    own cash-basis ProfitAndLoss report, to the cent, for every month that had ended when the
    report was loaded: total income, total expenses, other income and other expenses. Cost of
    goods sold is left out, as in the accrual check: QuickBooks values inventory FIFO, which its
    API does not expose (assert_quickbooks__inventory_cost_matches_the_report warns of it). A
    month the report has and the model lacks is a row too: no month goes unchecked.
#}
{% set figures = [
    {'name': 'income', 'row_label': 'Total Income', 'section': 'Income'},
    {'name': 'expenses', 'row_label': 'Total Expenses', 'section': 'Expenses'},
    {'name': 'other_income', 'row_label': 'Total Other Income', 'section': 'Other Income'},
    {'name': 'other_expenses', 'row_label': 'Total Other Expenses', 'section': 'Other Expenses'},
] %}
with report as (
    select * from {{ ref('stg_quickbooks__profit_and_loss_cash_basis') }}
    where end_date = (report_month + interval '1 month - 1 day')::date
),

reported as (
    select
        source_relation,
        report_month as period_month,
        {%- for figure in figures %}
        coalesce(sum(amount) filter (where row_label = '{{ figure.row_label }}'), 0) as {{ figure.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from report
    group by 1, 2
),

derived as (
    select
        profit_and_loss.source_relation,
        profit_and_loss.period_month,
        {%- for figure in figures %}
        coalesce(sum(profit_and_loss.amount) filter (where profit_and_loss.section = '{{ figure.section }}'), 0) as {{ figure.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('quickbooks__profit_and_loss_cash_basis') }} as profit_and_loss
    inner join (select distinct source_relation, report_month from report) as report_months
        on profit_and_loss.source_relation = report_months.source_relation
        and profit_and_loss.period_month = report_months.report_month
    group by 1, 2
)

select
    coalesce(reported.source_relation, derived.source_relation) as source_relation,
    coalesce(reported.period_month, derived.period_month) as period_month,
    {%- for figure in figures %}
    reported.{{ figure.name }} as reported_{{ figure.name }}, derived.{{ figure.name }} as derived_{{ figure.name }}{{ "," if not loop.last }}
    {%- endfor %}
from reported
full outer join derived
    on reported.source_relation = derived.source_relation
    and reported.period_month = derived.period_month
where false
    {%- for figure in figures %}
    or coalesce(reported.{{ figure.name }}, 0) <> coalesce(derived.{{ figure.name }}, 0)
    {%- endfor %}
