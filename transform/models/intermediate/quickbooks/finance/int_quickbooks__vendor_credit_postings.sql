-- One row per account each vendor credit moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_vendor_credit_postings() }}
