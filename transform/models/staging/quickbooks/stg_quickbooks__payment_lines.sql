{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'payment_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('payments', 'Payment', 'payment_id') }}") }}
{{ quickbooks_payment_lines('payments', 'Payment', 'payment_id') }}
