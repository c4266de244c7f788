{{ quickbooks_sales_lines('credit_memos', 'CreditMemo', 'credit_memo_id') }}
