{#
    The balance sheet at each month's end (for the month still going, its balances so far), as QuickBooks
    lays it out: every asset, liability and equity account with a balance, in its natural sign
    (assets as debits, liabilities and equity as credits, each positive when normal), and profit
    rolled into equity: "Retained Earnings" holds every earlier fiscal year's net income (with
    anything posted to the account itself) and "Net Income" the fiscal year to date. So assets =
    liabilities + equity every month (tested). Each company's fiscal year starts in the month its
    QuickBooks preferences name (stg_quickbooks__preferences).
#}

with trial_balance as (
    select * from {{ ref('quickbooks__trial_balance') }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

preferences as (
    select * from {{ ref('stg_quickbooks__preferences') }}
),

months as (
    select distinct
        trial_balance.source_relation,
        trial_balance.period_month,
        trial_balance.period_end_date as as_of_date,
        -- the first month of the fiscal year this month is in (the company's: a company without
        -- preferences stops the build at the trial balance's test, before this model)
        make_date(
            extract(year from trial_balance.period_month)::int
                - case when extract(month from trial_balance.period_month) < preferences.fiscal_year_start_month
                    then 1 else 0 end,
            preferences.fiscal_year_start_month,
            1
        ) as fiscal_year_start
    from trial_balance
    left join preferences on preferences.source_relation = trial_balance.source_relation
),

-- Profit for each month (income less expenses: the credits less debits of profit-and-loss accounts)
monthly_profit as (
    select source_relation, period_month, -sum(net_change) as net_income
    from trial_balance
    where financial_statement = 'profit_and_loss'
    group by 1, 2
),

profit_to_date as (
    select
        months.source_relation,
        months.period_month,
        coalesce(sum(monthly_profit.net_income) filter (
            where monthly_profit.period_month < months.fiscal_year_start), 0) as earlier_years_net_income,
        coalesce(sum(monthly_profit.net_income) filter (
            where monthly_profit.period_month >= months.fiscal_year_start), 0) as fiscal_year_net_income
    from months
    left join monthly_profit
        on monthly_profit.source_relation = months.source_relation
        and monthly_profit.period_month <= months.period_month
    group by 1, 2
),

account_rows as (
    select
        trial_balance.source_relation,
        trial_balance.period_month,
        case trial_balance.account_classification
            when 'Asset' then 'Assets'
            when 'Liability' then 'Liabilities'
            else 'Equity'
        end as section,
        'account' as row_type,
        trial_balance.account_id,
        trial_balance.account_name,
        trial_balance.account_type,
        case when trial_balance.account_classification = 'Asset' then 1 else -1 end
            * trial_balance.closing_balance as amount
    from trial_balance
    left join default_accounts
        on trial_balance.source_relation = default_accounts.source_relation
    where trial_balance.financial_statement = 'balance_sheet'
        and trial_balance.account_id is distinct from default_accounts.retained_earnings_account_id
),

retained_earnings as (
    select
        profit_to_date.source_relation,
        profit_to_date.period_month,
        'Equity' as section,
        'retained_earnings' as row_type,
        default_accounts.retained_earnings_account_id as account_id,
        'Retained Earnings' as account_name,
        'Equity' as account_type,
        profit_to_date.earlier_years_net_income - coalesce(posted.closing_balance, 0) as amount
    from profit_to_date
    left join default_accounts
        on profit_to_date.source_relation = default_accounts.source_relation
    left join trial_balance as posted
        on posted.source_relation = profit_to_date.source_relation
        and posted.period_month = profit_to_date.period_month
        and posted.account_id = default_accounts.retained_earnings_account_id
),

net_income as (
    select
        source_relation,
        period_month,
        'Equity' as section,
        'net_income' as row_type,
        null::text as account_id,
        'Net Income' as account_name,
        null::text as account_type,
        fiscal_year_net_income as amount
    from profit_to_date
),

all_rows as (
    select * from account_rows where amount <> 0
    union all
    select * from retained_earnings
    union all
    select * from net_income
)

select
    all_rows.source_relation,
    all_rows.period_month || ':' || all_rows.section || ':' || coalesce(all_rows.account_id, all_rows.row_type)
        as balance_sheet_id,
    all_rows.period_month,
    months.as_of_date,
    all_rows.section,
    all_rows.row_type,
    all_rows.account_id,
    all_rows.account_name,
    all_rows.account_type,
    all_rows.amount::numeric(18, 2) as amount
from all_rows
inner join months
    on all_rows.source_relation = months.source_relation
    and all_rows.period_month = months.period_month
