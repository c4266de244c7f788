-- Assets = liabilities + equity, every month of every company.
select
    source_relation,
    period_month,
    sum(amount) filter (where section = 'Assets') as total_assets,
    sum(amount) filter (where section in ('Liabilities', 'Equity')) as total_liabilities_and_equity
from {{ ref('quickbooks__balance_sheet') }}
group by 1, 2
having coalesce(sum(amount) filter (where section = 'Assets'), 0)
    <> coalesce(sum(amount) filter (where section in ('Liabilities', 'Equity')), 0)
