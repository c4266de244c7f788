-- One row per account each invoice moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_invoice_postings() }}
