{{ quickbooks_sales_lines('invoices', 'Invoice', 'invoice_id') }}
