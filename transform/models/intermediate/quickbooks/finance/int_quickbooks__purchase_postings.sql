-- One row per account each purchase moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_purchase_postings() }}
