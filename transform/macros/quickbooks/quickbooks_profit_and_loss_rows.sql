{#
    A profit and loss's rows, from `monthly` (a CTE or relation of source_relation, period_month,
    account_id, account_name, account_type and net_change, debits positive): QuickBooks' sections,
    each amount positive when normal for its section (income and expenses both positive), and
    net_income_effect, what the row adds to the month's net income. One place for the sections and
    signs of both bases (quickbooks__profit_and_loss, quickbooks__profit_and_loss_cash_basis).
    The cash basis's Unapplied Cash Payment Income row has no account: its id says so.
#}
{% macro quickbooks_profit_and_loss_rows(monthly, accounting_method) %}
select
    source_relation,
    period_month || ':' || coalesce(account_id, 'unapplied-cash-payment-income') as profit_and_loss_id,
    period_month,
    case account_type
        when 'Income' then 'Income'
        when 'Cost of Goods Sold' then 'Cost of Goods Sold'
        when 'Expense' then 'Expenses'
        when 'Other Income' then 'Other Income'
        when 'Other Expense' then 'Other Expenses'
    end as section,
    account_id,
    account_name,
    account_type,
    case when account_type in ('Income', 'Other Income') then -net_change else net_change end as amount,
    -net_change as net_income_effect,
    '{{ accounting_method }}' as accounting_method
from {{ monthly }}
where net_change <> 0
{% endmacro %}
