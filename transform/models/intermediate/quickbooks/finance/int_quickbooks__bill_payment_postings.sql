-- One row per account each bill payment moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_bill_payment_postings() }}
