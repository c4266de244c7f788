{{ quickbooks_expense_lines('purchases', 'Purchase', 'purchase_id') }}
