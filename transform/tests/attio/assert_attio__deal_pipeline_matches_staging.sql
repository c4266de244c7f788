-- Per workspace, each stage's deal count and total value in the pipeline mart equal the staged
-- deals', to the cent (exact numeric sums). Deals without a stage are a group of their own:
-- grouping, unlike a join, treats the null stage as one value.
with deals as (
    select 'mart' as side, source_relation, stage, deal_value from {{ ref('attio__deal_pipeline') }}
    union all
    select 'staging' as side, source_relation, stage, deal_value from {{ ref('stg_attio__deals') }}
),

per_stage as (
    select
        source_relation,
        stage,
        count(*) filter (where side = 'mart') as mart_count,
        count(*) filter (where side = 'staging') as staged_count,
        sum(deal_value) filter (where side = 'mart') as mart_value,
        sum(deal_value) filter (where side = 'staging') as staged_value
    from deals
    group by source_relation, stage
)

select *
from per_stage
where mart_count <> staged_count
    or mart_value is distinct from staged_value
