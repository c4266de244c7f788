-- Per business, property and day, every additive figure of the traffic mart equals the staged
-- traffic_acquisition rows' sums, exactly, and the mart has one row per staged source /
-- medium / channel group (summing the campaigns loses or doubles nothing).
{% set measures = ['sessions', 'new_users', 'engaged_sessions', 'key_events', 'ecommerce_purchases', 'total_revenue'] %}

with mart as (
    select
        source_relation,
        property_id,
        report_date,
        count(*) as row_count,
        sum(campaign_count) as campaign_count,
        {% for measure in measures %}
        sum({{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('ga4__traffic_daily') }}
    group by 1, 2, 3
),

staged as (
    select
        source_relation,
        property_id,
        report_date,
        count(distinct (session_default_channel_group, session_source, session_medium)) as row_count,
        count(*) as campaign_count,
        {% for measure in measures %}
        sum({{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('stg_ga4__traffic_acquisition') }}
    group by 1, 2, 3
)

select
    coalesce(mart.source_relation, staged.source_relation) as source_relation,
    coalesce(mart.property_id, staged.property_id) as property_id,
    coalesce(mart.report_date, staged.report_date) as report_date,
    mart.row_count as mart_rows,
    staged.row_count as staged_rows,
    mart.sessions as mart_sessions,
    staged.sessions as staged_sessions,
    mart.total_revenue as mart_revenue,
    staged.total_revenue as staged_revenue
from mart
full outer join staged
    on mart.source_relation = staged.source_relation
    and mart.property_id = staged.property_id
    and mart.report_date = staged.report_date
where mart.row_count is distinct from staged.row_count
    or mart.campaign_count is distinct from staged.campaign_count
    {% for measure in measures %}
    or mart.{{ measure }} is distinct from staged.{{ measure }}
    {% endfor %}
