-- One row per account each deposit moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_deposit_postings() }}
