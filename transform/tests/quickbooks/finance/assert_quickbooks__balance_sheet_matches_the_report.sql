{#
    The ledger's balance sheet agrees with QuickBooks' own BalanceSheet report, to the cent, at
    every month's end the report was loaded for (a month still going is compared once ended):
    each account's balance (matched by name, where one account has it), total liabilities, and
    wherever the inventory's value agrees (below) total assets, total equity, Retained Earnings and
    Net Income too. A fiscal year read wrong (stg_quickbooks__preferences) shows here,
    as Retained Earnings and Net Income split differently.
    Inventory: QuickBooks values it FIFO, which its API does not expose, and the ledger at each
    item's purchase cost; a month where the two values differ is named by a warning instead
    (assert_quickbooks__inventory_value_matches_the_report), and only those months' totals wait.
    A month-end the report has and the ledger lacks is a row too: no month goes unchecked.
#}
with report as (
    select * from {{ ref('stg_quickbooks__balance_sheet') }}
    where as_of_date = (report_month + interval '1 month - 1 day')::date
),

ledger as (
    select * from {{ ref('quickbooks__balance_sheet') }}
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
),

uniquely_named as (
    select source_relation, account_name, min(account_id) as account_id, min(account_sub_type) as account_sub_type
    from accounts
    group by 1, 2
    having count(*) = 1
),

report_months as (
    select distinct source_relation, report_month from report
),

-- the inventory's value, both ways, at each month's end
inventory as (
    select
        report_months.source_relation,
        report_months.report_month,
        (select coalesce(sum(report.amount), 0) from report
         inner join uniquely_named
             on report.source_relation = uniquely_named.source_relation and report.row_label = uniquely_named.account_name
         where report.source_relation = report_months.source_relation and report.report_month = report_months.report_month
             and uniquely_named.account_sub_type = 'Inventory') as reported,
        (select coalesce(sum(ledger.amount), 0) from ledger
         inner join accounts
             on ledger.source_relation = accounts.source_relation and ledger.account_id = accounts.account_id
         where ledger.source_relation = report_months.source_relation and ledger.period_month = report_months.report_month
             and accounts.account_sub_type = 'Inventory') as derived
    from report_months
),

reported_rows as (
    -- accounts, by id
    select report.source_relation, report.report_month, uniquely_named.account_id as what, report.amount,
           uniquely_named.account_sub_type in ('Inventory', 'RetainedEarnings') as carries_inventory
    from report
    inner join uniquely_named
        on report.source_relation = uniquely_named.source_relation
        and report.row_label = uniquely_named.account_name
    union all
    -- totals, by label
    select source_relation, report_month, row_label, amount, row_label <> 'Total Liabilities'
    from report
    where row_label in ('TOTAL ASSETS', 'Total Liabilities', 'Total Equity', 'Net Income')
),

derived_rows as (
    select source_relation, period_month as report_month, account_id as what, amount,
           row_type = 'retained_earnings' as carries_inventory
    from ledger
    where row_type in ('account', 'retained_earnings')
        and account_id is not null
        and account_id not in (
            select accounts.account_id from accounts
            where accounts.source_relation = ledger.source_relation and accounts.account_sub_type = 'Inventory')
    union all
    select source_relation, period_month, total, sum(amount), total <> 'Total Liabilities'
    from ledger
    cross join lateral (values
        (case section when 'Assets' then 'TOTAL ASSETS' when 'Liabilities' then 'Total Liabilities' else 'Total Equity' end),
        (case when row_type = 'net_income' then 'Net Income' end)
    ) as totals(total)
    where total is not null
    group by 1, 2, 3
),

differences as (
    select
        coalesce(reported_rows.source_relation, derived_rows.source_relation) as source_relation,
        coalesce(reported_rows.report_month, derived_rows.report_month) as report_month,
        coalesce(reported_rows.what, derived_rows.what) as what,
        coalesce(reported_rows.carries_inventory, derived_rows.carries_inventory) as carries_inventory,
        reported_rows.amount as reported,
        derived_rows.amount as ledger
    from reported_rows
    full outer join derived_rows
        on reported_rows.source_relation = derived_rows.source_relation
        and reported_rows.report_month = derived_rows.report_month
        and reported_rows.what = derived_rows.what
    where coalesce(reported_rows.amount, 0) <> coalesce(derived_rows.amount, 0)
)

select differences.source_relation, differences.report_month, differences.what, differences.reported, differences.ledger
from differences
inner join inventory
    on differences.source_relation = inventory.source_relation
    and differences.report_month = inventory.report_month
where not (differences.carries_inventory and inventory.reported <> inventory.derived)
    and differences.what not in (
        select accounts.account_id from accounts
        where accounts.source_relation = differences.source_relation and accounts.account_sub_type = 'Inventory')

union all

select report_months.source_relation, report_months.report_month, 'the month is missing from the ledger', null, null
from report_months
where not exists (
    select 1 from ledger
    where ledger.source_relation = report_months.source_relation and ledger.period_month = report_months.report_month)
