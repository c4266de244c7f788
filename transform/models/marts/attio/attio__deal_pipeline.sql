-- One row per (not deleted) deal of each workspace (source_relation): its stage and outcome,
-- value, owner, company and timing.
with deals as (
    select * from {{ ref('stg_attio__deals') }}
),

workspace_members as (
    select * from {{ ref('stg_attio__workspace_members') }}
),

companies as (
    select * from {{ ref('stg_attio__companies') }}
),

enriched as (
    select
        deals.source_relation,
        deals.deal_id,
        deals.deal_name,
        deals.stage,
        -- Attio has no won/lost flag, only the stage's title: the default pipeline ends in
        -- "Won 🎉" and "Lost", so a title starting with "won"/"lost" (any case) closes the deal.
        -- A deal with no stage yet is open. accepted_values on stage flags any new title.
        coalesce(lower(trim(deals.stage)) like 'won%', false) as is_won,
        coalesce(lower(trim(deals.stage)) like 'lost%', false) as is_lost,
        deals.deal_value,
        deals.currency_code,
        deals.owner_workspace_member_id,
        workspace_members.full_name as owner_name,
        deals.associated_company_id as company_id,
        companies.company_name,
        companies.primary_domain as company_primary_domain,
        cardinality(deals.associated_person_ids) as associated_person_count,
        deals.stage_entered_at,
        deals.created_at,
        deals.close_date,
        deals.web_url,
        {{ attio_as_of_date() }} as as_of_date
    from deals
    left join workspace_members
        on workspace_members.source_relation = deals.source_relation
        and workspace_members.workspace_member_id = deals.owner_workspace_member_id
    left join companies
        on companies.source_relation = deals.source_relation
        and companies.company_id = deals.associated_company_id
)

select
    source_relation,
    deal_id,
    deal_name,
    stage,
    is_won,
    is_lost,
    not (is_won or is_lost) as is_open,
    deal_value,
    currency_code,
    owner_workspace_member_id,
    owner_name,
    company_id,
    company_name,
    company_primary_domain,
    associated_person_count,
    stage_entered_at,
    -- Calendar days (UTC) from entering the current stage to as_of_date; for a won or lost
    -- deal, the days since it was closed.
    as_of_date - (stage_entered_at at time zone 'UTC')::date as days_in_stage,
    created_at,
    close_date,
    as_of_date - (created_at at time zone 'UTC')::date as age_days,
    web_url,
    as_of_date
from enriched
