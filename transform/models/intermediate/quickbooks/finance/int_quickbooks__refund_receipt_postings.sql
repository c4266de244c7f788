-- Refund receipts: a sales receipt reversed, the total paid out of the account it names.
{{ quickbooks_sales_form_postings('RefundReceipt', 'stg_quickbooks__refund_receipts', 'stg_quickbooks__refund_receipt_lines',
                                  'refund_receipt_id', sign=-1,
                                  counter_account='coalesce(headers.refund_from_account_id, default_accounts.undeposited_funds_account_id)') }}
