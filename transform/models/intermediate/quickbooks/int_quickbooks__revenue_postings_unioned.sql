{#
    Every amount a transaction posts to a revenue account (QuickBooks account types Income and
    Other Income), signed so that positive raises revenue, dated by the transaction date. This
    is what the ProfitAndLoss report's income sections add up under accrual accounting, so the
    report can be reconciled with the transactions (tests/quickbooks/).

    - sales forms: item lines post to the item's income account, discount lines reduce the
      discount account; invoices and sales receipts add, credit memos and refund receipts subtract
    - journal entries: a credit raises revenue, a debit lowers it
    - deposits: lines recorded straight against an account (not moving an earlier payment)
    - bills and purchases: account lines charged to a revenue account lower it (credits raise it)
    Tax never reaches revenue: it posts to a liability, and lines are before tax.
#}
with items as (
    select * from {{ ref('stg_quickbooks__items') }}
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

sales_lines as (
    {% for model, id_column, transaction_type, sign in [
        ('stg_quickbooks__invoice_lines', 'invoice_id', 'Invoice', 1),
        ('stg_quickbooks__sales_receipt_lines', 'sales_receipt_id', 'SalesReceipt', 1),
        ('stg_quickbooks__credit_memo_lines', 'credit_memo_id', 'CreditMemo', -1),
        ('stg_quickbooks__refund_receipt_lines', 'refund_receipt_id', 'RefundReceipt', -1),
    ] %}
    select
        source_relation,
        '{{ transaction_type }}' as transaction_type,
        {{ id_column }} as transaction_id,
        line_position,
        transaction_date,
        detail_type,
        item_id,
        item_account_id,
        discount_account_id,
        {{ sign }} * amount as signed_amount
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

sales_postings as (
    select
        sales_lines.source_relation,
        sales_lines.transaction_type,
        sales_lines.transaction_id,
        sales_lines.line_position,
        sales_lines.transaction_date,
        case sales_lines.detail_type
            when 'DiscountLineDetail' then sales_lines.discount_account_id
            else coalesce(sales_lines.item_account_id, items.income_account_id)
        end as account_id,
        case sales_lines.detail_type
            when 'DiscountLineDetail' then -sales_lines.signed_amount
            else sales_lines.signed_amount
        end as amount
    from sales_lines
    left join items
        on sales_lines.source_relation = items.source_relation
        and sales_lines.item_id = items.item_id
    where sales_lines.detail_type in ('SalesItemLineDetail', 'DiscountLineDetail')
),

journal_postings as (
    select
        source_relation,
        'JournalEntry' as transaction_type,
        journal_entry_id as transaction_id,
        line_position,
        transaction_date,
        account_id,
        -debit_minus_credit as amount
    from {{ ref('stg_quickbooks__journal_entry_lines') }}
),

deposit_postings as (
    select
        source_relation,
        'Deposit' as transaction_type,
        deposit_id as transaction_id,
        line_position,
        transaction_date,
        account_id,
        amount
    from {{ ref('stg_quickbooks__deposit_lines') }}
    where linked_transaction_id is null
        and account_id is not null
),

expense_postings as (
    select
        source_relation,
        'Bill' as transaction_type,
        bill_id as transaction_id,
        line_position,
        transaction_date,
        account_id,
        -amount as amount
    from {{ ref('stg_quickbooks__bill_lines') }}
    where account_id is not null

    union all

    select
        lines.source_relation,
        'Purchase' as transaction_type,
        lines.purchase_id as transaction_id,
        lines.line_position,
        lines.transaction_date,
        lines.account_id,
        case when purchases.is_credit then lines.amount else -lines.amount end as amount
    from {{ ref('stg_quickbooks__purchase_lines') }} as lines
    inner join {{ ref('stg_quickbooks__purchases') }} as purchases
        on lines.source_relation = purchases.source_relation
        and lines.purchase_id = purchases.purchase_id
    where lines.account_id is not null
),

postings as (
    select * from sales_postings
    union all
    select * from journal_postings
    union all
    select * from deposit_postings
    union all
    select * from expense_postings
)

select
    postings.source_relation,
    postings.transaction_type || ':' || postings.transaction_id || '-' || postings.line_position as revenue_posting_id,
    postings.transaction_type,
    postings.transaction_id,
    postings.line_position,
    postings.transaction_date,
    postings.account_id,
    accounts.account_name,
    accounts.account_type,
    postings.amount
from postings
inner join accounts
    on postings.source_relation = accounts.source_relation
    and postings.account_id = accounts.account_id
where accounts.account_type in ('Income', 'Other Income')
