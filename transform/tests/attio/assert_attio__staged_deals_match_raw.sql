-- Staging keeps every deal still live in Attio, once: per workspace and stage, the staged count
-- and value equal those of the raw rows not marked deleted (the raw table is keyed on record_id).
with deals as (
    select 'staging' as side, source_relation, stage, deal_value from {{ ref('stg_attio__deals') }}
    union all
    select 'raw' as side, source_relation, stage, value as deal_value
    from ({{ instance_rows('attio', 'deals') }}) as raw
    where _sdc_deleted_at is null
),

per_stage as (
    select
        source_relation,
        stage,
        count(*) filter (where side = 'staging') as staged_count,
        count(*) filter (where side = 'raw') as raw_count,
        sum(deal_value) filter (where side = 'staging') as staged_value,
        sum(deal_value) filter (where side = 'raw') as raw_value
    from deals
    group by source_relation, stage
)

select *
from per_stage
where staged_count <> raw_count
    or staged_value is distinct from raw_value
