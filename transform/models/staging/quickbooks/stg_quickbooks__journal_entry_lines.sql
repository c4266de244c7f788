{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source_relation', 'journal_entry_id'],
          on_schema_change='fail',
          pre_hook="{{ quickbooks_delete_changed_lines('journal_entries', 'JournalEntry', 'journal_entry_id') }}") }}
with form_lines as (
    {{ quickbooks_form_lines('journal_entries', 'JournalEntry') }}
),

lines as (
    select
        form_lines.*,
        form_lines.parent_id as journal_entry_id,
        form_lines.item -> 'JournalEntryLineDetail' as detail
    from form_lines
),

renamed as (
    select
        source_relation,
        journal_entry_id || '-' || line_position as journal_entry_line_id,
        journal_entry_id,
        line_position,
        item ->> 'Id' as source_line_id,
        transaction_date::date as transaction_date,
        item ->> 'Description' as description,
        detail ->> 'PostingType' as posting_type,
        {{ quickbooks_ref_id('detail', "-> 'AccountRef'") }} as account_id,
        {{ quickbooks_ref_name('detail', "-> 'AccountRef'") }} as account_name,
        {{ quickbooks_money("item ->> 'Amount'") }} as amount,
        -- Debits positive, credits negative: the lines of one entry sum to zero.
        case detail ->> 'PostingType'
            when 'Debit' then {{ quickbooks_money("item ->> 'Amount'") }}
            when 'Credit' then -{{ quickbooks_money("item ->> 'Amount'") }}
        end as debit_minus_credit,
        detail -> 'Entity' ->> 'Type' as entity_type,
        {{ quickbooks_ref_id('detail', "-> 'Entity' -> 'EntityRef'") }} as entity_id,
        {{ quickbooks_ref_id('detail', "-> 'ClassRef'") }} as class_id,
        {{ quickbooks_ref_id('detail', "-> 'DepartmentRef'") }} as department_id,
        _loaded_at
    from lines
    -- Description-only lines carry no posting.
    where detail is not null
)

select * from renamed
