with source as (
    {{ shopify_current_rows('customers') }}
),

renamed as (
    select
        source_relation,
        "legacyResourceId" as customer_id,
        id as customer_gid,
        "firstName" as first_name,
        "lastName" as last_name,
        "displayName" as display_name,
        nullif(lower(trim("defaultEmailAddress" ->> 'emailAddress')), '') as email,
        -- E-mail marketing consent of the default address: SUBSCRIBED, NOT_SUBSCRIBED,
        -- UNSUBSCRIBED, PENDING (double opt-in not confirmed), REDACTED, INVALID.
        "defaultEmailAddress" ->> 'marketingState' as email_marketing_state,
        "defaultEmailAddress" ->> 'marketingOptInLevel' as email_marketing_opt_in_level,
        {{ shopify_json_timestamp("\"defaultEmailAddress\" ->> 'marketingUpdatedAt'") }} as email_marketing_updated_at,
        coalesce("defaultEmailAddress" ->> 'marketingState' = 'SUBSCRIBED', false) as is_email_marketing_subscribed,
        "defaultPhoneNumber" ->> 'phoneNumber' as phone,
        {{ shopify_sms_consent_state() }} as sms_marketing_state,
        coalesce({{ shopify_sms_consent_state() }} = 'SUBSCRIBED', false) as is_sms_marketing_subscribed,
        state as account_state,
        coalesce("taxExempt", false) as is_tax_exempt,
        coalesce("verifiedEmail", false) as is_verified_email,
        locale,
        coalesce(tags, '{}'::text[]) as tags,
        "defaultAddress" ->> 'countryCodeV2' as country_code,
        "defaultAddress" ->> 'provinceCode' as province_code,
        "defaultAddress" ->> 'city' as city,
        -- Shopify's own running figures, kept to check the marts against.
        nullif("numberOfOrders", '')::bigint as shopify_order_count,
        {{ shopify_money_v2('"amountSpent"') }} as shopify_amount_spent,
        "amountSpent" ->> 'currencyCode' as currency_code,
        {{ shopify_utc('"createdAt"') }} as created_at,
        {{ shopify_utc('"updatedAt"') }} as updated_at,
        _sdc_batched_at as _loaded_at
    from source
)

select * from renamed
