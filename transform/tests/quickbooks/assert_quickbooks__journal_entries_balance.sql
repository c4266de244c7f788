-- Debits equal credits in every journal entry (a lost or doubled line breaks it).
select source_relation, journal_entry_id, sum(debit_minus_credit) as imbalance
from {{ ref('stg_quickbooks__journal_entry_lines') }}
group by source_relation, journal_entry_id
having sum(debit_minus_credit) <> 0
