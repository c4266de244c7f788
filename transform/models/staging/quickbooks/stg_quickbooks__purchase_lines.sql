{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'purchase_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('purchases', 'Purchase', 'purchase_id') }}") }}
{{ quickbooks_expense_lines('purchases', 'Purchase', 'purchase_id') }}
