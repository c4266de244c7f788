-- One row per account each bill moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_bill_postings() }}
