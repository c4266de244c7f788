-- Credit memos: an invoice reversed (income, cost and tax back), the total off the customer's
-- receivable.
{{ quickbooks_sales_form_postings('CreditMemo', 'stg_quickbooks__credit_memos', 'stg_quickbooks__credit_memo_lines',
                                  'credit_memo_id', sign=-1, counter_account='default_accounts.receivable_account_id') }}
