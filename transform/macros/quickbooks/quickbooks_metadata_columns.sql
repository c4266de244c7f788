{# Audit columns every staging model ends with. #}
{% macro quickbooks_metadata_columns(alias) -%}
    {{ quickbooks_timestamp(alias ~ '."MetaData" ->> \'CreateTime\'') }} as created_at,
    {{ quickbooks_timestamp(alias ~ '."MetaData" ->> \'LastUpdatedTime\'') }} as updated_at,
    {{ alias }}._sdc_batched_at as _loaded_at
{%- endmacro %}
