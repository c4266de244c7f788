-- One row per account each transfer moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_transfer_postings() }}
