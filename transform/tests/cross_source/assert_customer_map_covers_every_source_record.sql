-- Every QuickBooks customer, Attio company and person, and Shopify customer has exactly one
-- unified customer (uniqueness is the model's own test; this one catches records left out).
with expected as (
    select source_relation, 'quickbooks' as source_system, customer_id::text as source_id from {{ ref('stg_quickbooks__customers') }}
    union all
    select source_relation, 'attio', company_id from {{ ref('stg_attio__companies') }}
    union all
    select source_relation, 'attio', person_id from {{ ref('stg_attio__people') }}
    union all
    select source_relation, 'shopify', customer_id::text from {{ ref('stg_shopify__customers') }}
)

select expected.*
from expected
left join {{ ref('int_identity__customer_map') }} as mapped
    on mapped.source_relation = expected.source_relation and mapped.source_system = expected.source_system
    and mapped.source_id = expected.source_id
where mapped.source_id is null
