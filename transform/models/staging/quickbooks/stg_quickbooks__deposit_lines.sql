{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'deposit_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('deposits', 'Deposit', 'deposit_id') }}") }}
-- A deposit line either moves an earlier receipt out of Undeposited Funds (LinkedTxn: a Payment
-- or SalesReceipt) or records new money against an account (DepositLineDetail.AccountRef).
with form_lines as (
    {{ quickbooks_form_lines('deposits', 'Deposit') }}
),

lines as (
    select
        form_lines.*,
        form_lines.parent_id as deposit_id,
        form_lines.item -> 'DepositLineDetail' as detail
    from form_lines
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
