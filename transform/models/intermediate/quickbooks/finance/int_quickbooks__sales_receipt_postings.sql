-- Sales receipts: as an invoice, but paid on the spot: the total goes to the account it was
-- deposited to (Undeposited Funds when none is named).
{{ quickbooks_sales_form_postings('SalesReceipt', 'stg_quickbooks__sales_receipts', 'stg_quickbooks__sales_receipt_lines',
                                  'sales_receipt_id', sign=1,
                                  counter_account='coalesce(headers.deposit_to_account_id, default_accounts.undeposited_funds_account_id)') }}
