-- One row per account each journal entry moves: the rules are in macros/quickbooks/quickbooks_postings_by_type.sql.
{{ quickbooks_journal_entry_postings() }}
