-- One row per account each payment moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_payment_postings() }}
