{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'deposit_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('deposits', 'Deposit', 'deposit_id') }}") }}
-- A deposit line either moves an earlier receipt out of Undeposited Funds (LinkedTxn: a Payment
-- or SalesReceipt) or records new money against an account (DepositLineDetail.AccountRef).
with deposits as (
    {{ quickbooks_changed_rows('deposits', 'Deposit') }}
),

lines as (
    select
        deposits.source_relation,
        deposits."Id" as deposit_id,
        deposits."TxnDate" as transaction_date,
        deposits._sdc_batched_at as _loaded_at,
        line.line_position::integer as line_position,
        line.line_item as item,
        line.line_item -> 'DepositLineDetail' as detail
    from deposits
    cross join lateral unnest(deposits."Line") with ordinality as line(line_item, line_position)
),

renamed as (
    select
        source_relation,
        deposit_id || '-' || line_position as deposit_line_id,
        deposit_id,
        line_position,
        item ->> 'Id' as source_line_id,
        transaction_date::date as transaction_date,
        item ->> 'Description' as description,
        {{ quickbooks_money("item ->> 'Amount'") }} as amount,
        item -> 'LinkedTxn' -> 0 ->> 'TxnId' as linked_transaction_id,
        item -> 'LinkedTxn' -> 0 ->> 'TxnType' as linked_transaction_type,
        {{ quickbooks_ref_id('detail', "-> 'AccountRef'") }} as account_id,
        {{ quickbooks_ref_name('detail', "-> 'AccountRef'") }} as account_name,
        {{ quickbooks_ref_id('detail', "-> 'Entity'") }} as entity_id,
        {{ quickbooks_ref_id('detail', "-> 'PaymentMethodRef'") }} as payment_method_id,
        {{ quickbooks_ref_id('detail', "-> 'ClassRef'") }} as class_id,
        detail ->> 'CheckNum' as check_number,
        _loaded_at
    from lines
)

select * from renamed
