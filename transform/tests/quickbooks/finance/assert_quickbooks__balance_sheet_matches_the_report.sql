{#
    The ledger's balance sheet agrees with QuickBooks' own BalanceSheet report, to the cent, for
    every month the report was loaded as of the same day: each account's balance (matched by
    name, where one account has it) and total liabilities. Inventory and the totals that carry
    it (assets, equity, net income) are checked apart, as a warning
    (assert_quickbooks__inventory_value_matches_the_report): QuickBooks values inventory FIFO.
#}
with report as (
    select * from {{ ref('stg_quickbooks__balance_sheet') }}
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

compared_months as (
    select distinct report.source_relation, report.report_month
    from report
    inner join ledger
        on report.source_relation = ledger.source_relation
        and report.report_month = ledger.period_month
        and report.as_of_date = ledger.as_of_date
),

reported_accounts as (
    select report.source_relation, report.report_month, uniquely_named.account_id, report.amount
    from report
    inner join uniquely_named
        on report.source_relation = uniquely_named.source_relation
        and report.row_label = uniquely_named.account_name
    where uniquely_named.account_sub_type not in ('Inventory', 'RetainedEarnings')
),

ledger_accounts as (
    select ledger.source_relation, ledger.period_month as report_month, ledger.account_id, ledger.amount
    from ledger
    inner join uniquely_named
        on ledger.source_relation = uniquely_named.source_relation
        and ledger.account_id = uniquely_named.account_id
    where ledger.row_type = 'account'
        and uniquely_named.account_sub_type not in ('Inventory', 'RetainedEarnings')
),

account_differences as (
    select
        coalesce(reported_accounts.source_relation, ledger_accounts.source_relation) as source_relation,
        coalesce(reported_accounts.report_month, ledger_accounts.report_month) as report_month,
        coalesce(reported_accounts.account_id, ledger_accounts.account_id) as what,
        reported_accounts.amount as reported,
        ledger_accounts.amount as ledger
    from reported_accounts
    full outer join ledger_accounts
        on reported_accounts.source_relation = ledger_accounts.source_relation
        and reported_accounts.report_month = ledger_accounts.report_month
        and reported_accounts.account_id = ledger_accounts.account_id
),

liabilities as (
    select
        compared_months.source_relation,
        compared_months.report_month,
        'Total Liabilities' as what,
        (select coalesce(sum(report.amount), 0) from report
         where report.source_relation = compared_months.source_relation
             and report.report_month = compared_months.report_month
             and report.row_label = 'Total Liabilities') as reported,
        (select coalesce(sum(ledger.amount), 0) from ledger
         where ledger.source_relation = compared_months.source_relation
             and ledger.period_month = compared_months.report_month
             and ledger.section = 'Liabilities') as ledger
    from compared_months
),

differences as (
    select * from account_differences
    union all
    select * from liabilities
)

select differences.*
from differences
inner join compared_months
    on differences.source_relation = compared_months.source_relation
    and differences.report_month = compared_months.report_month
where coalesce(differences.reported, 0) <> coalesce(differences.ledger, 0)
