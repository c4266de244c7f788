-- Deposits: the total into the bank account; each line credits where the money came from: an
-- earlier payment or sales receipt moved out of Undeposited Funds (a linked line), or the
-- account the line names (an owner's investment, a refund); cash kept back debits its account.
with deposits as (
    select * from {{ ref('stg_quickbooks__deposits') }}
),

lines as (
    select * from {{ ref('stg_quickbooks__deposit_lines') }}
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
        coalesce(postings.description, deposits.private_note) as description
    from postings
    inner join deposits
        on postings.source_relation = deposits.source_relation
        and postings.transaction_id = deposits.deposit_id
)

select {{ quickbooks_posting_columns() }} from described
