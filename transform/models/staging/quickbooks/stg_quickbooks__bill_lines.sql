{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'bill_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('bills', 'Bill', 'bill_id') }}") }}
{{ quickbooks_expense_lines('bills', 'Bill', 'bill_id') }}
