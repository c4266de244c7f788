{#
    Each transaction type's postings (one row per account a transaction moves): the rules of the
    double entry, type by type. Each macro is used twice with the same code: by its model
    (`int_quickbooks__<type>_postings`, a view of every transaction of the type, which the unit
    tests hold to hand-worked cases), and by `int_quickbooks__postings`, the table of every type,
    which a scheduled build fills with only the transactions a load changed (`changed`: see
    quickbooks_only_changed in quickbooks_postings.sql; none for every transaction).
#}

{# Invoices: income (and inventory cost) by line, tax to the sales tax liability, the total
   receivable from the customer, less what was paid when invoiced (the invoice's deposit). #}
{% macro quickbooks_invoice_postings(changed=none) %}
{{ quickbooks_sales_form_postings('Invoice', 'stg_quickbooks__invoices', 'stg_quickbooks__invoice_lines', 'invoice_id',
                                  sign=1, has_deposit=true,
                                  counter_account='coalesce(currency_accounts.receivable_account_id, default_accounts.receivable_account_id)',
                                  changed=changed) }}
{% endmacro %}

{# Sales receipts: as an invoice, but paid on the spot: the total goes to the account it was
   deposited to (Undeposited Funds when none is named). #}
{% macro quickbooks_sales_receipt_postings(changed=none) %}
{{ quickbooks_sales_form_postings('SalesReceipt', 'stg_quickbooks__sales_receipts', 'stg_quickbooks__sales_receipt_lines',
                                  'sales_receipt_id', sign=1,
                                  counter_account='coalesce(headers.deposit_to_account_id, default_accounts.undeposited_funds_account_id)',
                                  changed=changed) }}
{% endmacro %}

{# Credit memos: an invoice reversed (income, cost and tax back), the total off the customer's
   receivable. #}
{% macro quickbooks_credit_memo_postings(changed=none) %}
{{ quickbooks_sales_form_postings('CreditMemo', 'stg_quickbooks__credit_memos', 'stg_quickbooks__credit_memo_lines',
                                  'credit_memo_id', sign=-1,
                                  counter_account='coalesce(currency_accounts.receivable_account_id, default_accounts.receivable_account_id)',
                                  changed=changed) }}
{% endmacro %}

{# Refund receipts: a sales receipt reversed, the total paid out of the account it names. #}
{% macro quickbooks_refund_receipt_postings(changed=none) %}
{{ quickbooks_sales_form_postings('RefundReceipt', 'stg_quickbooks__refund_receipts', 'stg_quickbooks__refund_receipt_lines',
                                  'refund_receipt_id', sign=-1,
                                  counter_account='coalesce(headers.refund_from_account_id, default_accounts.undeposited_funds_account_id)',
                                  changed=changed) }}
{% endmacro %}

{# Customer payments: the money into the account it was deposited to (Undeposited Funds when
   none is named), off the customer's receivable: the whole amount, applied to invoices or not
   (an unapplied amount is a credit on the customer's account, still off A/R); in a foreign
   currency, off that currency's A/R, with the realized exchange gain or loss. #}
{% macro quickbooks_payment_postings(changed=none) %}
{{ quickbooks_settlement_postings(
    'Payment', sign=1,
    money_key='deposit', open_key='receivable',
    money_account='coalesce(headers.deposit_to_account_id, default_accounts.undeposited_funds_account_id)',
    open_account='coalesce(headers.receivable_account_id, currency_accounts.receivable_account_id, default_accounts.receivable_account_id)',
    doc_number='headers.payment_reference_number', customer_id='headers.customer_id', vendor_id='null::text',
    department_id='null::text', changed=changed) }}
{% endmacro %}

{# Deposits: the total into the bank account; each line credits where the money came from: an
   earlier payment or sales receipt moved out of Undeposited Funds (a linked line), or the
   account the line names (an owner's investment, a refund); cash kept back debits its account. #}
{% macro quickbooks_deposit_postings(changed=none) %}
with deposits as (
    select * from {{ ref('stg_quickbooks__deposits') }}
    where {{ quickbooks_only_changed(changed, 'Deposit', 'deposit_id') }}
),

lines as (
    select * from {{ ref('stg_quickbooks__deposit_lines') }}
    where {{ quickbooks_only_changed(changed, 'Deposit', 'deposit_id') }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

postings as (
    select
        lines.source_relation,
        lines.deposit_id as transaction_id,
        'line-' || lines.line_position as posting_key,
        coalesce(lines.account_id, default_accounts.undeposited_funds_account_id) as account_id,
        -lines.amount as transaction_amount,
        lines.class_id,
        lines.description
    from lines
    left join default_accounts using (source_relation)
    where lines.amount <> 0

    union all

    select source_relation, deposit_id, 'total', deposit_to_account_id, total_amount, null, null
    from deposits
    where total_amount <> 0

    union all

    select source_relation, deposit_id, 'cash_back', cash_back_account_id, cash_back_amount, null, null
    from deposits
    where coalesce(cash_back_amount, 0) <> 0
),

described as (
    select
        postings.source_relation,
        'Deposit' as transaction_type,
        postings.transaction_id,
        postings.posting_key,
        deposits.transaction_date,
        null::text as doc_number,
        postings.account_id,
        postings.transaction_amount,
        deposits.currency_code,
        deposits.exchange_rate,
        null::text as customer_id,
        null::text as vendor_id,
        postings.class_id,
        deposits.department_id,
        coalesce(postings.description, deposits.private_note) as description,
        {{ quickbooks_postings_stamp('deposits') }} as _loaded_at
    from postings
    inner join deposits
        on postings.source_relation = deposits.source_relation
        and postings.transaction_id = deposits.deposit_id
    left join ({{ quickbooks_line_stamps('lines', 'deposit_id') }}) as line_stamps
        on deposits.source_relation = line_stamps.source_relation
        and deposits.deposit_id = line_stamps.deposit_id
)

{{ quickbooks_postings_from('described') }}
{% endmacro %}

{# Bills: each line's expense (or inventory) debited, the total owed to the vendor (A/P). #}
{% macro quickbooks_bill_postings(changed=none) %}
{{ quickbooks_expense_form_postings('Bill', 'stg_quickbooks__bills', 'stg_quickbooks__bill_lines', 'bill_id', sign=1,
                                    counter_account='coalesce(signed_headers.payable_account_id, currency_accounts.payable_account_id, default_accounts.payable_account_id)',
                                    changed=changed) }}
{% endmacro %}

{# Bill payments: off what the company owes (A/P), out of the bank or card account that paid; in
   a foreign currency, off that currency's A/P, with the realized exchange gain or loss. #}
{% macro quickbooks_bill_payment_postings(changed=none) %}
{{ quickbooks_settlement_postings(
    'BillPayment', sign=-1,
    money_key='paid_from', open_key='payable',
    money_account='headers.payment_account_id',
    open_account='coalesce(headers.payable_account_id, currency_accounts.payable_account_id, default_accounts.payable_account_id)',
    doc_number='headers.doc_number', customer_id='null::text', vendor_id='headers.vendor_id',
    department_id='headers.department_id', changed=changed) }}
{% endmacro %}

{# Purchases (expenses, checks, card charges): each line debited, the total out of the bank or
   card account that paid; a card credit (refund) is the reverse. #}
{% macro quickbooks_purchase_postings(changed=none) %}
{{ quickbooks_expense_form_postings('Purchase', 'stg_quickbooks__purchases', 'stg_quickbooks__purchase_lines', 'purchase_id',
                                    sign='case when headers.is_credit then -1 else 1 end',
                                    counter_account='signed_headers.payment_account_id',
                                    vendor_id="case when headers.payee_type = 'Vendor' then headers.payee_id end",
                                    changed=changed) }}
{% endmacro %}

{# Vendor credits: a bill reversed: each line credited, the total off what the company owes
   (A/P). (QuickBooks' VendorCredit carries no tax detail.) #}
{% macro quickbooks_vendor_credit_postings(changed=none) %}
{{ quickbooks_expense_form_postings('VendorCredit', 'stg_quickbooks__vendor_credits', 'stg_quickbooks__vendor_credit_lines',
                                    'vendor_credit_id', sign=-1,
                                    counter_account='coalesce(signed_headers.payable_account_id, currency_accounts.payable_account_id, default_accounts.payable_account_id)',
                                    has_tax=false, changed=changed) }}
{% endmacro %}

{# Journal entries: each line as it is, debit or credit. #}
{% macro quickbooks_journal_entry_postings(changed=none) %}
with lines as (
    select * from {{ ref('stg_quickbooks__journal_entry_lines') }}
    where {{ quickbooks_only_changed(changed, 'JournalEntry', 'journal_entry_id') }}
),

entries as (
    select * from {{ ref('stg_quickbooks__journal_entries') }}
    where {{ quickbooks_only_changed(changed, 'JournalEntry', 'journal_entry_id') }}
),

postings as (
    select
        lines.source_relation,
        'JournalEntry' as transaction_type,
        lines.journal_entry_id as transaction_id,
        'line-' || lines.line_position as posting_key,
        entries.transaction_date,
        entries.doc_number,
        lines.account_id,
        lines.debit_minus_credit as transaction_amount,
        entries.currency_code,
        entries.exchange_rate,
        case when lines.entity_type = 'Customer' then lines.entity_id end as customer_id,
        case when lines.entity_type = 'Vendor' then lines.entity_id end as vendor_id,
        lines.class_id,
        lines.department_id,
        lines.description,
        {{ quickbooks_postings_stamp('entries') }} as _loaded_at
    from lines
    inner join entries
        on lines.source_relation = entries.source_relation
        and lines.journal_entry_id = entries.journal_entry_id
    left join ({{ quickbooks_line_stamps('lines', 'journal_entry_id') }}) as line_stamps
        on entries.source_relation = line_stamps.source_relation
        and entries.journal_entry_id = line_stamps.journal_entry_id
    where lines.debit_minus_credit <> 0
)

{{ quickbooks_postings_from('postings') }}
{% endmacro %}

{# Transfers between balance-sheet accounts: into one, out of the other. #}
{% macro quickbooks_transfer_postings(changed=none) %}
with transfers as (
    select * from {{ ref('stg_quickbooks__transfers') }}
    where {{ quickbooks_only_changed(changed, 'Transfer', 'transfer_id') }}
),

postings as (
    select
        transfers.source_relation,
        'Transfer' as transaction_type,
        transfers.transfer_id as transaction_id,
        sides.posting_key,
        transfers.transaction_date,
        null::text as doc_number,
        case sides.posting_key when 'to' then transfers.to_account_id else transfers.from_account_id end as account_id,
        sides.posting_sign * transfers.amount as transaction_amount,
        transfers.currency_code,
        null::numeric as exchange_rate,
        null::text as customer_id,
        null::text as vendor_id,
        null::text as class_id,
        null::text as department_id,
        transfers.private_note as description,
        transfers._loaded_at
    from transfers
    cross join (values ('to', 1), ('from', -1)) as sides(posting_key, posting_sign)
    where transfers.amount <> 0
)

{{ quickbooks_postings_from('postings') }}
{% endmacro %}
