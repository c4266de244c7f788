with source as (
    {{ quickbooks_current_rows('accounts', 'Account') }}
),

renamed as (
    select
        source_relation,
        "Id" as account_id,
        "Name" as account_name,
        "FullyQualifiedName" as fully_qualified_name,
        "AcctNum" as account_number,
        "AccountType" as account_type,
        "AccountSubType" as account_sub_type,
        "Classification" as classification,
        "Description" as description,
        coalesce("SubAccount", false) as is_sub_account,
        {{ quickbooks_ref_id('"ParentRef"') }} as parent_account_id,
        coalesce("Active", true) as is_active,
        {{ quickbooks_money('"CurrentBalance"') }} as current_balance,
        {{ quickbooks_money('"CurrentBalanceWithSubAccounts"') }} as current_balance_with_sub_accounts,
        {{ quickbooks_ref_id('"CurrencyRef"') }} as currency_code,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
