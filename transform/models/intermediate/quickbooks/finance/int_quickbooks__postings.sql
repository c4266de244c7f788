-- Every posting of every transaction type the pipeline loads, in one list: the general ledger's
-- rows before they meet their accounts (marts/quickbooks/finance/quickbooks__general_ledger).
-- A foreign-currency transaction's postings are converted to the home currency one by one, each
-- rounded to the cent, so they can miss zero by a cent (three lines of 1.05 EUR at 1.1 are 1.16
-- each, 3.48, against 3.47 for their total): its counter posting (`total`) takes the difference,
-- as QuickBooks' own home-currency total does, and the transaction balances.
-- A table, not a view like the other intermediate models: the ledger and five tests read it, and
-- as a view each of them computed the twelve posting models again (at 266,000 QuickBooks records
-- the quickbooks build went from 64 to 49 s: bench/RESULTS.md).
{{ config(materialized='table') }}
{% set posting_models = [
    'int_quickbooks__invoice_postings', 'int_quickbooks__sales_receipt_postings',
    'int_quickbooks__credit_memo_postings', 'int_quickbooks__refund_receipt_postings',
    'int_quickbooks__payment_postings', 'int_quickbooks__deposit_postings',
    'int_quickbooks__bill_postings', 'int_quickbooks__bill_payment_postings',
    'int_quickbooks__purchase_postings', 'int_quickbooks__vendor_credit_postings',
    'int_quickbooks__journal_entry_postings', 'int_quickbooks__transfer_postings',
] %}
with postings as (
    {% for posting_model in posting_models %}
    select * from {{ ref(posting_model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    source_relation,
    posting_id,
    transaction_type,
    transaction_id,
    posting_key,
    transaction_date,
    doc_number,
    account_id,
    case
        when posting_key = 'total' and exchange_rate is not null
            then amount - sum(amount) over (partition by source_relation, transaction_type, transaction_id)
        else amount
    end as amount,
    transaction_amount,
    transaction_currency,
    exchange_rate,
    customer_id,
    vendor_id,
    class_id,
    department_id,
    description
from postings
