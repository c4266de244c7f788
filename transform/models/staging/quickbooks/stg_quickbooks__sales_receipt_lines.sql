{{ quickbooks_sales_lines('sales_receipts', 'SalesReceipt', 'sales_receipt_id') }}
