{#
    The ledger's figures against QuickBooks' own ProfitAndLoss report, month by month, over the
    days the report covers: one row per month where a figure differs, with both values. `figures`:
    [{'name', 'row_label': the report's row, 'sign': 1 for a debit balance (expenses), -1 for a
    credit one (income), 'where': which of the ledger's days make it, on their columns account_type
    and financial_statement}]. The ledger is read summed by account and day
    (int_quickbooks__daily_account_totals), not posting by posting.
#}
{% macro quickbooks_ledger_against_the_report(figures) %}
with report_days as (
    select distinct source_relation, report_date from {{ ref('stg_quickbooks__profit_and_loss') }}
),

reported as (
    select
        source_relation,
        date_trunc('month', report_date)::date as period_month,
        {%- for figure in figures %}
        coalesce(sum(amount) filter (where row_label = '{{ figure.row_label }}'), 0) as {{ figure.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_quickbooks__profit_and_loss') }}
    group by 1, 2
),

ledger_days as (
    select
        daily.source_relation,
        daily.transaction_date,
        daily.net_change as amount,
        accounts.account_type,
        {{ quickbooks_financial_statement('accounts.account_type') }} as financial_statement
    from {{ ref('int_quickbooks__daily_account_totals') }} as daily
    left join {{ ref('stg_quickbooks__accounts') }} as accounts
        on daily.source_relation = accounts.source_relation
        and daily.account_id = accounts.account_id
),

ledger as (
    select
        ledger.source_relation,
        date_trunc('month', ledger.transaction_date)::date as period_month,
        {%- for figure in figures %}
        coalesce(sum(({{ figure.sign }}) * ledger.amount) filter (where {{ figure.where }}), 0) as {{ figure.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from ledger_days as ledger
    inner join report_days
        on ledger.source_relation = report_days.source_relation
        and ledger.transaction_date = report_days.report_date
    group by 1, 2
)

select
    coalesce(reported.source_relation, ledger.source_relation) as source_relation,
    coalesce(reported.period_month, ledger.period_month) as period_month,
    {%- for figure in figures %}
    reported.{{ figure.name }} as reported_{{ figure.name }}, ledger.{{ figure.name }} as ledger_{{ figure.name }}{{ "," if not loop.last }}
    {%- endfor %}
from reported
full outer join ledger
    on reported.source_relation = ledger.source_relation
    and reported.period_month = ledger.period_month
where false
    {%- for figure in figures %}
    or coalesce(reported.{{ figure.name }}, 0) <> coalesce(ledger.{{ figure.name }}, 0)
    {%- endfor %}
{% endmacro %}
