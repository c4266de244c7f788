-- Traffic acquisition per business (source_relation), property, day, default channel group and
-- source / medium: the report's campaign rows summed. Ratios are taken over the summed figures, not averaged, and
-- rounded to 4 decimals.
with traffic as (
    select * from {{ ref('stg_ga4__traffic_acquisition') }}
),

per_source_medium as (
    select
        source_relation,
        property_id,
        report_date,
        session_default_channel_group,
        session_source,
        session_medium,
        count(*) as campaign_count,
        sum(sessions)::bigint as sessions,
        sum(total_users)::bigint as total_users,
        sum(new_users)::bigint as new_users,
        sum(engaged_sessions)::bigint as engaged_sessions,
        sum(key_events) as key_events,
        sum(ecommerce_purchases)::bigint as ecommerce_purchases,
        sum(total_revenue) as total_revenue,
        bool_or(is_other_row) as is_other_row,
        -- one currency per property (GA4 converts); max() only collapses the campaign rows
        max(currency_code) as currency_code
    from traffic
    group by 1, 2, 3, 4, 5, 6
),

-- GA4's signals are per request (thresholding, sampling, data loss) or per row ((other)):
-- a day counts as affected when any row of the day's report is.
day_flags as (
    select
        source_relation,
        property_id,
        report_date,
        bool_or(is_other_row) as day_has_other_row,
        bool_or(is_subject_to_thresholding) as day_is_subject_to_thresholding,
        bool_or(has_data_loss_from_other_row) as day_has_data_loss_from_other_row,
        bool_or(is_sampled) as day_is_sampled
    from traffic
    group by 1, 2, 3
)

select
    per_source_medium.source_relation,
    per_source_medium.property_id,
    per_source_medium.report_date,
    per_source_medium.session_default_channel_group,
    per_source_medium.session_source,
    per_source_medium.session_medium,
    per_source_medium.campaign_count,
    per_source_medium.sessions,
    per_source_medium.total_users,
    per_source_medium.new_users,
    per_source_medium.engaged_sessions,
    per_source_medium.key_events,
    per_source_medium.ecommerce_purchases,
    per_source_medium.total_revenue,
    per_source_medium.currency_code,
    round(per_source_medium.engaged_sessions::numeric / nullif(per_source_medium.sessions, 0), 4)
        as engagement_rate,
    round(per_source_medium.total_revenue / nullif(per_source_medium.sessions, 0), 4)
        as revenue_per_session,
    per_source_medium.is_other_row,
    day_flags.day_has_other_row,
    day_flags.day_is_subject_to_thresholding,
    day_flags.day_has_data_loss_from_other_row,
    day_flags.day_is_sampled
from per_source_medium
inner join day_flags
    on per_source_medium.source_relation = day_flags.source_relation
    and per_source_medium.property_id = day_flags.property_id
    and per_source_medium.report_date = day_flags.report_date
