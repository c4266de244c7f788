with discount_applications as (
    {{ shopify_order_elements('discountApplications') }}
),

renamed as (
    select
        source_relation,
        order_id,
        -- The application's index in the order: discount allocations point at it.
        (element ->> 'index')::integer as application_index,
        position as application_position,
        element ->> '__typename' as discount_type,
        -- A code (DiscountCodeApplication) or a title (automatic, manual, script).
        coalesce(element ->> 'code', element ->> 'title') as discount_name,
        element ->> 'code' as discount_code,
        element ->> 'description' as description,
        element ->> 'allocationMethod' as allocation_method,
        element ->> 'targetSelection' as target_selection,
        element ->> 'targetType' as target_type,
        case
            when element -> 'value' ? 'percentage' then 'percentage'
            when element -> 'value' ? 'amount' then 'fixed_amount'
        end as value_type,
        (element -> 'value' ->> 'percentage')::numeric as value_percentage,
        (element -> 'value' ->> 'amount')::numeric(18, 2) as value_amount,
        element -> 'value' ->> 'currencyCode' as value_currency_code,
        _sdc_batched_at as _loaded_at
    from discount_applications
)

select * from renamed
