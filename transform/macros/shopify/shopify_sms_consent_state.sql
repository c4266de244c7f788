{#
    A customer's SMS marketing state. From API 2026-10 the tap reads it on the default phone
    number (defaultPhoneNumber.smsMarketingConsent.state); before, on the customer
    (smsMarketingConsent.marketingState), which then lands in its own column. Both are read
    when the raw table (of any instance) has them, so a change of api_version keeps the old rows'
    consent.
#}
{% macro shopify_sms_consent_state(relation=none) -%}
    {%- set has_legacy_column = false -%}
    {%- if execute -%}
        {%- if relation or instance_schemas('shopify') == [instance_default_schema('shopify')] -%}
            {%- set names = adapter.get_columns_in_relation(relation or source('shopify', 'customers')) | map(attribute='name') | list -%}
        {%- else -%}
            {%- set names = instance_columns(instance_schemas('shopify'), source('shopify', 'customers').identifier)['columns'] -%}
        {%- endif -%}
        {%- set has_legacy_column = 'smsMarketingConsent' in names -%}
    {%- endif -%}
    {%- if has_legacy_column -%}
        coalesce("defaultPhoneNumber" -> 'smsMarketingConsent' ->> 'state', "smsMarketingConsent" ->> 'marketingState')
    {%- else -%}
        ("defaultPhoneNumber" -> 'smsMarketingConsent' ->> 'state')
    {%- endif -%}
{%- endmacro %}
