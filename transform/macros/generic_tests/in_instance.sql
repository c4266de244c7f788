{#
    Keys and references within one instance (macros/instances.sql): ids repeat across instances
    (two shops both have order 1001), so a key is unique per source_relation and a reference
    points into the same source_relation. One instance: the same as dbt's unique and
    relationships.
#}
{% test unique_in_instance(model, column_name) %}
select source_relation, {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ column_name }} is not null
group by source_relation, {{ column_name }}
having count(*) > 1
{% endtest %}

{% test relationships_in_instance(model, column_name, to, field) %}
select child.source_relation, child.{{ column_name }}
-- (a `where` config makes the model an aliased subquery: wrapped again so it takes this alias)
from (select * from {{ model }}) as child
left join {{ to }} as parent
    on parent.source_relation = child.source_relation
    and parent.{{ field }} = child.{{ column_name }}
where child.{{ column_name }} is not null
    and parent.{{ field }} is null
{% endtest %}
