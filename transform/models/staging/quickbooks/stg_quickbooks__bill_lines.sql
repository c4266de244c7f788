{{ quickbooks_expense_lines('bills', 'Bill', 'bill_id') }}
