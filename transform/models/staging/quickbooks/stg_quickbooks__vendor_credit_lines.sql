{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'vendor_credit_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('vendor_credits', 'VendorCredit', 'vendor_credit_id') }}") }}
{{ quickbooks_expense_lines('vendor_credits', 'VendorCredit', 'vendor_credit_id') }}
