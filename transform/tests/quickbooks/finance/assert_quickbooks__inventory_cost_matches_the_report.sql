{{ config(severity='warn') }}
{#
    Cost of goods sold and net income, ledger against QuickBooks' ProfitAndLoss report, by month.
    A warning, not an error: the ledger costs an inventory item sold at the item's purchase cost,
    while QuickBooks values it FIFO (the cost of the units bought first), which its API does not
    expose; the two part when an item's cost changed while older units were still in stock. Every
    other figure is held to the cent (assert_quickbooks__profit_and_loss_matches_the_report).
#}
{{ quickbooks_ledger_against_the_report([
    {'name': 'cost_of_goods_sold', 'row_label': 'Total Cost of Goods Sold', 'sign': 1,
     'where': "account_type = 'Cost of Goods Sold'"},
    {'name': 'net_income', 'row_label': 'Net Income', 'sign': -1, 'where': "financial_statement = 'profit_and_loss'"},
]) }}
