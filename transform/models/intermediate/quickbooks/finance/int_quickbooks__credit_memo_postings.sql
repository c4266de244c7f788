-- One row per account each credit memo moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_credit_memo_postings() }}
