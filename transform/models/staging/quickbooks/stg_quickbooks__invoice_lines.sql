{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'invoice_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('invoices', 'Invoice', 'invoice_id') }}") }}
{{ quickbooks_sales_lines('invoices', 'Invoice', 'invoice_id') }}
