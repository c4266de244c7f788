with source as (
    {{ shopify_current_rows('orders') }}
),

renamed as (
    select
        source_relation,
        "legacyResourceId" as order_id,
        id as order_gid,
        name as order_name,
        number as order_number,
        {{ shopify_gid_to_id("customer ->> 'id'") }} as customer_id,
        customer ->> 'id' as customer_gid,
        nullif(lower(trim(email)), '') as email,
        {{ shopify_utc('"createdAt"') }} as created_at,
        -- When the order was placed; differs from created_at for imported orders, and is the
        -- date Shopify's own sales reports use.
        {{ shopify_utc('"processedAt"') }} as processed_at,
        {{ shopify_utc('"cancelledAt"') }} as cancelled_at,
        "cancelReason" as cancel_reason,
        {{ shopify_utc('"closedAt"') }} as closed_at,
        coalesce(closed, false) as is_closed,
        "cancelledAt" is not null as is_cancelled,
        coalesce(test, false) as is_test,
        "displayFinancialStatus" as financial_status,
        "displayFulfillmentStatus" as fulfillment_status,
        "sourceName" as source_name,
        coalesce(tags, '{}'::text[]) as tags,
        coalesce("discountCodes", '{}'::text[]) as discount_codes,
        coalesce("taxesIncluded", false) as is_taxes_included,
        "subtotalLineItemsQuantity" as line_items_quantity,
        -- Shopify's own totals, in the shop's currency (see _shopify__models.yml for each).
        {{ shopify_money('"subtotalPriceSet"') }} as subtotal_price,
        {{ shopify_money('"totalDiscountsSet"') }} as total_discounts,
        {{ shopify_money('"totalShippingPriceSet"') }} as total_shipping,
        {{ shopify_money('"totalTaxSet"') }} as total_tax,
        {{ shopify_money('"totalPriceSet"') }} as total_price,
        {{ shopify_money('"totalRefundedSet"') }} as total_refunded,
        {{ shopify_money('"currentTotalPriceSet"') }} as current_total_price,
        {{ shopify_money('"totalOutstandingSet"') }} as total_outstanding,
        "currencyCode" as currency_code,
        "presentmentCurrencyCode" as presentment_currency_code,
        cardinality("lineItems") as line_count,
        "shippingAddress" ->> 'countryCodeV2' as shipping_country_code,
        "shippingAddress" ->> 'provinceCode' as shipping_province_code,
        "shippingAddress" ->> 'city' as shipping_city,
        {{ shopify_utc('"updatedAt"') }} as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
