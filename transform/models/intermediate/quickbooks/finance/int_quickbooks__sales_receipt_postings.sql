-- One row per account each sales receipt moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_sales_receipt_postings() }}
