-- Invoices: income (and inventory cost) by line, tax to the sales tax liability, the total
-- receivable from the customer, less what was paid when invoiced (the invoice's deposit).
{{ quickbooks_sales_form_postings('Invoice', 'stg_quickbooks__invoices', 'stg_quickbooks__invoice_lines', 'invoice_id',
                                  sign=1, counter_account='default_accounts.receivable_account_id', has_deposit=true) }}
