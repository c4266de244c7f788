{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'refund_receipt_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('refund_receipts', 'RefundReceipt', 'refund_receipt_id') }}") }}
{{ quickbooks_sales_lines('refund_receipts', 'RefundReceipt', 'refund_receipt_id') }}
