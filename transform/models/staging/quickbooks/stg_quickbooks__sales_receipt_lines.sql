{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'sales_receipt_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('sales_receipts', 'SalesReceipt', 'sales_receipt_id') }}") }}
{{ quickbooks_sales_lines('sales_receipts', 'SalesReceipt', 'sales_receipt_id') }}
