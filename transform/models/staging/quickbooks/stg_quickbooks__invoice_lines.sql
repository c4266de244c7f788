{{ config(materialized='incremental', on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('invoices', 'Invoice', 'invoice_id') }}") }}
{{ quickbooks_sales_lines('invoices', 'Invoice', 'invoice_id') }}
