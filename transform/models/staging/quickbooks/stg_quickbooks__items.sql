with source as (
    {{ quickbooks_current_rows('items', 'Item') }}
),

renamed as (
    select
        source_relation,
        "Id" as item_id,
        "Name" as item_name,
        "FullyQualifiedName" as fully_qualified_name,
        "Sku" as sku,
        "Type" as item_type,
        "Description" as description,
        coalesce("Active", true) as is_active,
        "Taxable" as is_taxable,
        {{ quickbooks_decimal('"UnitPrice"') }} as unit_price,
        {{ quickbooks_decimal('"PurchaseCost"') }} as purchase_cost,
        coalesce("TrackQtyOnHand", false) as tracks_quantity_on_hand,
        {{ quickbooks_decimal('"QtyOnHand"') }} as quantity_on_hand,
        {{ quickbooks_ref_id('"IncomeAccountRef"') }} as income_account_id,
        {{ quickbooks_ref_id('"ExpenseAccountRef"') }} as expense_account_id,
        {{ quickbooks_ref_id('"AssetAccountRef"') }} as asset_account_id,
        {{ quickbooks_ref_id('"ParentRef"') }} as parent_item_id,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
