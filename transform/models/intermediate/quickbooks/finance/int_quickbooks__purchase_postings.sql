-- Purchases (expenses, checks, card charges): each line debited, the total out of the bank or
-- card account that paid; a card credit (refund) is the reverse.
{{ quickbooks_expense_form_postings('Purchase', 'stg_quickbooks__purchases', 'stg_quickbooks__purchase_lines', 'purchase_id',
                                    sign='case when headers.is_credit then -1 else 1 end',
                                    counter_account='signed_headers.payment_account_id',
                                    vendor_id="case when headers.payee_type = 'Vendor' then headers.payee_id end") }}
