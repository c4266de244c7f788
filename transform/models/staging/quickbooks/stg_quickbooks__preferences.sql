-- The company's settings (the stream `preferences`, our wrapper's: extract/quickbooks/README.md),
-- one row per company: what the finance models need to read its books as QuickBooks does.
with source as (
    {{ quickbooks_current_rows('preferences', 'Preferences') }}
),

renamed as (
    select
        source_relation,
        "Id" as preferences_id,
        -- QuickBooks names the month in English ("April"); anything else is null here, and tested
        array_position(
            array['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
                  'October', 'November', 'December'],
            "AccountingInfoPrefs" ->> 'FirstMonthOfFiscalYear'
        ) as fiscal_year_start_month,
        "CurrencyPrefs" -> 'HomeCurrency' ->> 'value' as home_currency_code,
        coalesce(("CurrencyPrefs" ->> 'MultiCurrencyEnabled')::boolean, false) as is_multicurrency_enabled,
        "ReportPrefs" ->> 'ReportBasis' as report_basis,
        coalesce(("TaxPrefs" ->> 'UsingSalesTax')::boolean, false) as is_using_sales_tax,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
