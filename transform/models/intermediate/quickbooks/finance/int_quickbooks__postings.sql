-- Every posting of every transaction type the pipeline loads, in one list: the general ledger's
-- rows before they meet their accounts (marts/quickbooks/finance/quickbooks__general_ledger).
{% set posting_models = [
    'int_quickbooks__invoice_postings', 'int_quickbooks__sales_receipt_postings',
    'int_quickbooks__credit_memo_postings', 'int_quickbooks__refund_receipt_postings',
    'int_quickbooks__payment_postings', 'int_quickbooks__deposit_postings',
    'int_quickbooks__bill_postings', 'int_quickbooks__bill_payment_postings',
    'int_quickbooks__purchase_postings', 'int_quickbooks__vendor_credit_postings',
    'int_quickbooks__journal_entry_postings', 'int_quickbooks__transfer_postings',
] %}
{% for posting_model in posting_models %}
select * from {{ ref(posting_model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
