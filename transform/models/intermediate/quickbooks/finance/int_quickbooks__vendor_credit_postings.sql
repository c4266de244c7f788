-- Vendor credits: a bill reversed: each line credited, the total off what the company owes (A/P).
-- (QuickBooks' VendorCredit carries no tax detail.)
{{ quickbooks_expense_form_postings('VendorCredit', 'stg_quickbooks__vendor_credits', 'stg_quickbooks__vendor_credit_lines',
                                    'vendor_credit_id', sign=-1,
                                    counter_account='coalesce(signed_headers.payable_account_id, default_accounts.payable_account_id)',
                                    has_tax=false) }}
