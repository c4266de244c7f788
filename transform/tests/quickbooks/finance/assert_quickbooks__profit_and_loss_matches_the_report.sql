{#
    The ledger's profit and loss agrees with QuickBooks' own ProfitAndLoss report, to the cent, for
    every month over the days the report covers: total income, total expenses, other income and
    other expenses. Cost of goods sold and net income are checked apart
    (assert_quickbooks__inventory_cost_matches_the_report, a warning): QuickBooks values inventory
    FIFO, which its API does not expose.
#}
{{ quickbooks_ledger_against_the_report([
    {'name': 'income', 'row_label': 'Total Income', 'sign': -1, 'where': "account_type = 'Income'"},
    {'name': 'expenses', 'row_label': 'Total Expenses', 'sign': 1, 'where': "account_type = 'Expense'"},
    {'name': 'other_income', 'row_label': 'Total Other Income', 'sign': -1, 'where': "account_type = 'Other Income'"},
    {'name': 'other_expenses', 'row_label': 'Total Other Expenses', 'sign': 1, 'where': "account_type = 'Other Expense'"},
]) }}
