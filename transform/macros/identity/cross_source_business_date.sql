{#
    The business day of a UTC moment, as the books date it. QuickBooks dates a day's Shopify
    payout by the company's local day; the sandbox company keeps UTC-8 all year ('Etc/GMT+8':
    POSIX signs are inverted). Set var business_time_zone to the real company's zone.
#}
{% macro cross_source_business_date(column) -%}
    ({{ column }} at time zone '{{ var("business_time_zone", "Etc/GMT+8") }}')::date
{%- endmacro %}
