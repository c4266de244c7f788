-- One row per account each refund receipt moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_refund_receipt_postings() }}
