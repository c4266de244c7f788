-- Where the tax at each rate is owed, one row per company and rate whose agency keeps its own
-- liability account: QuickBooks opens one for each tax agency it creates, named "<agency> Payable",
-- and posts the tax at that agency's rates there from then on (`account_opened_at`: a form entered
-- before keeps its tax where it went). The API names no account on a tax rate or an agency, so the
-- account is found by that name (a top-level liability account; the oldest, should two match). A
-- rate whose agency has no such account (a company set up before QuickBooks kept one per agency)
-- is not here: its tax goes to the company's sales tax account (int_quickbooks__default_accounts).
with tax_rates as (
    select * from {{ ref('stg_quickbooks__tax_rates') }}
),

tax_agencies as (
    select * from {{ ref('stg_quickbooks__tax_agencies') }}
),

accounts as (
    select * from {{ ref('stg_quickbooks__accounts') }}
    where classification = 'Liability'
        and not is_sub_account
),

agency_accounts as (
    select distinct on (tax_agencies.source_relation, tax_agencies.tax_agency_id)
        tax_agencies.source_relation,
        tax_agencies.tax_agency_id,
        accounts.account_id,
        accounts.created_at
    from tax_agencies
    inner join accounts
        on tax_agencies.source_relation = accounts.source_relation
        and accounts.account_name = tax_agencies.tax_agency_name || ' Payable'
    order by tax_agencies.source_relation, tax_agencies.tax_agency_id,
        length(accounts.account_id), accounts.account_id
)

select
    tax_rates.source_relation,
    tax_rates.tax_rate_id,
    tax_rates.tax_agency_id,
    agency_accounts.account_id as payable_account_id,
    agency_accounts.created_at as account_opened_at
from tax_rates
inner join agency_accounts
    on tax_rates.source_relation = agency_accounts.source_relation
    and tax_rates.tax_agency_id = agency_accounts.tax_agency_id
