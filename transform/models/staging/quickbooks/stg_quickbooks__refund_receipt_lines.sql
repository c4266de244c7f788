{{ quickbooks_sales_lines('refund_receipts', 'RefundReceipt', 'refund_receipt_id') }}
