{#
    The statement of cash flows by month, indirect method: the month's net income, then how each
    other balance moved cash (a rise in receivables held cash back, a rise in payables kept it),
    grouped as operating (receivables, other current assets, payables, credit cards, other current
    liabilities, and depreciation added back), investing (fixed and other assets), financing
    (long-term liabilities, equity). Cash is the bank accounts and Undeposited Funds (money
    received, not yet banked). The lines of a month add up to its change in cash exactly (tested
    against quickbooks__balance_sheet).
#}
with trial_balance as (
    select * from {{ ref('quickbooks__trial_balance') }}
),

classified as (
    select
        *,
        account_type = 'Bank' or account_sub_type = 'UndepositedFunds' as is_cash,
        case
            when financial_statement = 'profit_and_loss' then 'operating'
            -- depreciation and amortisation spent no cash: added back to operating, as the
            -- indirect method does (the assets bought and sold are investing)
            when account_sub_type in ('AccumulatedDepreciation', 'AccumulatedAmortization',
                                      'AccumulatedAmortizationOfOtherAssets') then 'operating'
            when account_type in ('Fixed Asset', 'Other Asset') then 'investing'
            when account_type in ('Long Term Liability', 'Equity') then 'financing'
            else 'operating'
        end as activity
    from trial_balance
),

net_income as (
    select
        source_relation,
        period_month,
        'operating' as activity,
        'net_income' as line_type,
        null::text as account_id,
        'Net Income' as line_name,
        -sum(net_change) as amount
    from classified
    where financial_statement = 'profit_and_loss'
    group by 1, 2
),

balance_changes as (
    select
        source_relation,
        period_month,
        activity,
        'balance_change' as line_type,
        account_id,
        account_name as line_name,
        -- a debit balance that grew took cash; a credit balance that grew brought it
        -net_change as amount
    from classified
    where financial_statement = 'balance_sheet'
        and not is_cash
        and net_change <> 0
),

cash as (
    select
        source_relation,
        period_month,
        sum(closing_balance - net_change) as cash_at_start,
        sum(closing_balance) as cash_at_end
    from classified
    where is_cash
    group by 1, 2
),

lines as (
    select * from net_income
    union all
    select * from balance_changes
)

select
    lines.source_relation,
    lines.period_month || ':' || lines.activity || ':' || coalesce(lines.account_id, lines.line_type) as cash_flow_id,
    lines.period_month,
    lines.activity,
    lines.line_type,
    lines.account_id,
    lines.line_name,
    lines.amount,
    coalesce(cash.cash_at_start, 0) as month_cash_at_start,
    coalesce(cash.cash_at_end, 0) as month_cash_at_end
from lines
left join cash
    on lines.source_relation = cash.source_relation
    and lines.period_month = cash.period_month
