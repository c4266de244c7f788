with source as (
    {{ quickbooks_current_rows('terms', 'Term') }}
),

renamed as (
    select
        source_relation,
        "Id" as term_id,
        "Name" as term_name,
        "Type" as term_type,
        "DueDays" as due_days,
        "DayOfMonthDue" as day_of_month_due,
        "DueNextMonthDays" as due_next_month_days,
        "DiscountDays" as discount_days,
        {{ quickbooks_decimal('"DiscountPercent"') }} as discount_percent,
        coalesce("Active", true) as is_active,
        {{ quickbooks_metadata_columns('source') }}
    from source
)

select * from renamed
