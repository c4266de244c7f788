-- Bills: each line's expense (or inventory) debited, the total owed to the vendor (A/P).
{{ quickbooks_expense_form_postings('Bill', 'stg_quickbooks__bills', 'stg_quickbooks__bill_lines', 'bill_id', sign=1,
                                    counter_account='coalesce(signed_headers.payable_account_id, default_accounts.payable_account_id)') }}
