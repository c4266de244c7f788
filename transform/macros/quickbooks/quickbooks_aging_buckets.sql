{#
    The aging columns of the A/R and A/P agings: open balances summed by days past due (current,
    1-30, 31-60, 61-90, over 90), their total and the oldest item's days. For a query grouped by
    the customer or vendor, over rows with `balance` and `days_overdue`.
#}
{% macro quickbooks_aging_buckets() %}
    sum(case when days_overdue = 0 then balance else 0 end) as current_balance,
    sum(case when days_overdue between 1 and 30 then balance else 0 end) as overdue_1_30_balance,
    sum(case when days_overdue between 31 and 60 then balance else 0 end) as overdue_31_60_balance,
    sum(case when days_overdue between 61 and 90 then balance else 0 end) as overdue_61_90_balance,
    sum(case when days_overdue > 90 then balance else 0 end) as overdue_over_90_balance,
    sum(balance) as total_open_balance,
    max(days_overdue) as max_days_overdue
{%- endmacro %}
