{#
    Fails on every row where the SQL boolean `expression` is not true (a row-level invariant
    such as "total = a + b"), on a model or one of its columns. `where:` narrows the rows.
#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
