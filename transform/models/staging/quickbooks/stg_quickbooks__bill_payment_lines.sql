{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'bill_payment_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('bill_payments', 'BillPayment', 'bill_payment_id') }}") }}
{{ quickbooks_payment_lines('bill_payments', 'BillPayment', 'bill_payment_id') }}
