-- Double entry: every transaction's postings sum to zero (debits = credits), each on a known
-- account. A row here is a transaction the ledger got wrong: a line type it does not post, a
-- total that is not the sum of its lines and tax, or an account missing from the chart.
select
    source_relation,
    transaction_type,
    transaction_id,
    sum(amount) as imbalance,
    count(*) filter (where account_name is null) as postings_without_a_known_account
from {{ ref('quickbooks__general_ledger') }}
group by 1, 2, 3
having sum(amount) <> 0 or count(*) filter (where account_name is null) > 0
