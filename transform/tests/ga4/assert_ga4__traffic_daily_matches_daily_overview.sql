-- Per business, property and day, the traffic mart's sessions add up exactly, and its revenue to
-- the cent, to GA4's own totals (the daily_overview report): every session has exactly one
-- source / medium and GA4's "(other)" row keeps the remainder, so nothing is lost or counted twice.
--
-- Skipped days, where the two reports may legitimately differ:
--   - either report subject to thresholding (GA4 withholds rows of small groups);
--   - the two reports' rows come from different runs (a run stopped by the quota between the
--     two reports: GA4 restates figures for 48 h, so they were read at different times; the
--     next run re-reads both).
-- A day present on one side only is reported (a missing side counts as no sessions).
with mart as (
    select
        source_relation,
        property_id,
        report_date,
        sum(sessions) as sessions,
        sum(total_revenue) as total_revenue,
        bool_or(day_is_subject_to_thresholding) as is_subject_to_thresholding
    from {{ ref('ga4__traffic_daily') }}
    group by 1, 2, 3
),

traffic_loads as (
    select source_relation, property_id, report_date, max(_load_started_at) as load_started_at
    from {{ ref('stg_ga4__traffic_acquisition') }}
    group by 1, 2, 3
),

overview as (
    select
        source_relation,
        property_id,
        report_date,
        sessions,
        total_revenue,
        is_subject_to_thresholding,
        _load_started_at as load_started_at
    from {{ ref('stg_ga4__daily_overview') }}
),

compared as (
    select
        coalesce(mart.source_relation, overview.source_relation) as source_relation,
        coalesce(mart.property_id, overview.property_id) as property_id,
        coalesce(mart.report_date, overview.report_date) as report_date,
        mart.sessions as mart_sessions,
        overview.sessions as overview_sessions,
        round(mart.total_revenue, 2) as mart_revenue,
        round(overview.total_revenue, 2) as overview_revenue,
        coalesce(mart.is_subject_to_thresholding, false)
            or coalesce(overview.is_subject_to_thresholding, false) as is_thresholded,
        traffic_loads.load_started_at is distinct from overview.load_started_at
            and traffic_loads.load_started_at is not null
            and overview.load_started_at is not null as is_from_different_runs
    from mart
    full outer join overview
        on mart.source_relation = overview.source_relation
        and mart.property_id = overview.property_id
        and mart.report_date = overview.report_date
    left join traffic_loads
        on traffic_loads.source_relation = coalesce(mart.source_relation, overview.source_relation)
        and traffic_loads.property_id = coalesce(mart.property_id, overview.property_id)
        and traffic_loads.report_date = coalesce(mart.report_date, overview.report_date)
)

select *
from compared
where not is_thresholded
    and not is_from_different_runs
    and (
        coalesce(mart_sessions, 0) <> coalesce(overview_sessions, 0)
        or coalesce(mart_revenue, 0) <> coalesce(overview_revenue, 0)
    )
