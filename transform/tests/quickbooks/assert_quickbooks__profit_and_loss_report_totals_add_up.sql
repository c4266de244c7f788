-- The report's own arithmetic holds every month: Gross Profit = Total Income - Total Cost of
-- Goods Sold; Net Operating Income = Gross Profit - Total Expenses; Net Other Income = Total
-- Other Income - Total Other Expenses; Net Income = Net Operating Income + Net Other Income.
-- A break usually means the tap merged two report rows with the same label.
with monthly as (
    select
        source_relation,
        report_month,
        {% for label in ['Total Income', 'Total Cost of Goods Sold', 'Gross Profit', 'Total Expenses',
                         'Net Operating Income', 'Total Other Income', 'Total Other Expenses',
                         'Net Other Income', 'Net Income'] %}
        coalesce(sum(amount) filter (where row_label = '{{ label }}'), 0)
            as {{ label | lower | replace(' ', '_') }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ ref('quickbooks__profit_and_loss_report') }}
    group by source_relation, report_month
)

select *
from monthly
where gross_profit <> total_income - total_cost_of_goods_sold
    or net_operating_income <> gross_profit - total_expenses
    or net_other_income <> total_other_income - total_other_expenses
    or net_income <> net_operating_income + net_other_income
