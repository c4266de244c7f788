{#
    Connected components of an undirected graph: `nodes` and `edges` are relations (CTE names)
    with columns node_id and (node_a, node_b). Returns node_id, component_id where component_id
    is the smallest node_id reachable, so a cluster's id is stable while its members are.
    A recursive walk with `union` (not union all) stops at cycles; identity graphs are small and
    shallow (a handful of records per customer), so the walk is cheap.
#}
{% macro identity_connected_components(nodes, edges) -%}
        with recursive undirected as (
            select node_a, node_b from {{ edges }}
            union
            select node_b, node_a from {{ edges }}
        ),

        walk (node_id, reached) as (
            select node_id, node_id from {{ nodes }}
            union
            select walk.node_id, undirected.node_b
            from walk
            inner join undirected on undirected.node_a = walk.reached
        )

        select node_id, min(reached) as component_id
        from walk
        group by node_id
{%- endmacro %}
