with source as (
    {{ shopify_current_rows('inventory_levels') }}
),

-- quantities is a jsonb[] of {name, quantity}: one column per name the tap asks for.
quantities as (
    select
        source.source_relation,
        source.id,
        {% for name in ['available', 'committed', 'incoming', 'on_hand', 'reserved'] -%}
        max((quantity.element ->> 'quantity')::integer) filter (
            where quantity.element ->> 'name' = '{{ name }}'
        ) as {{ name }}_quantity{{ ',' if not loop.last }}
        {% endfor %}
    from source
    cross join lateral unnest(source.quantities) as quantity(element)
    group by source.source_relation, source.id
),

renamed as (
    select
        source.source_relation,
        source.id as inventory_level_gid,
        {{ shopify_gid_to_id("source.item ->> 'id'") }} as inventory_item_id,
        {{ shopify_gid_to_id("coalesce(source.location ->> 'id', source.\"locationId\")") }} as location_id,
        -- available = on_hand - committed - reserved (and other unavailable states).
        quantities.available_quantity,
        quantities.committed_quantity,
        quantities.incoming_quantity,
        quantities.on_hand_quantity,
        quantities.reserved_quantity,
        {{ shopify_utc('source."createdAt"') }} as created_at,
        {{ shopify_utc('source."updatedAt"') }} as updated_at,
        source._sdc_batched_at as _loaded_at
    from source
    left join quantities
        on source.source_relation = quantities.source_relation and source.id = quantities.id
)

select * from renamed
