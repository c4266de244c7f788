-- Every invoice's balance, as QuickBooks states it, equals its total less the deposit on it and
-- the payments applied to it. A mismatch means payments are missing from (or extra in) the
-- warehouse: e.g. a batch item the tap dropped, or a payment deleted without its deletion.
select
    source_relation,
    invoice_id,
    total_amount,
    deposit_amount,
    amount_paid,
    balance,
    total_amount - deposit_amount - amount_paid as expected_balance
from {{ ref('quickbooks__invoices') }}
where balance <> total_amount - deposit_amount - amount_paid
