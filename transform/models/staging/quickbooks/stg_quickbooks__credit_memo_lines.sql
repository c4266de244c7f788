{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'credit_memo_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('credit_memos', 'CreditMemo', 'credit_memo_id') }}") }}
{{ quickbooks_sales_lines('credit_memos', 'CreditMemo', 'credit_memo_id') }}
