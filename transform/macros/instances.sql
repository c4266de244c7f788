{#
    Several businesses in one warehouse: each instance of a source (a second shop is an inherited
    extractor, tap-shopify--acme, README "Several shops, companies, properties or workspaces")
    loads into its own raw schema (its load_schema, raw_shopify_acme), and the source's models
    read every instance's schema together. Each row carries `source_relation`, the raw schema it
    came from: one business is `where source_relation = 'raw_shopify_acme'`, the group is every
    row, and every key is (source_relation, id), since ids repeat across instances.

    A schema per instance rather than one shared schema: a full-table stream's ACTIVATE_VERSION
    marks every row of its table that the load did not send as deleted, which in a shared table
    would be the other businesses' rows; and each instance's columns drift on their own.

    The schemas a source's models read: the var `<source>_union_schemas` (a list), else the
    environment's TRIBUTARY_<SOURCE>_SCHEMAS (comma-separated, set in meltano.yml's `env`), else
    the source's own schema alone (`<source>_schema`, raw_<source>: one instance, the default).
    The default schema is read through source() (lineage, unit tests' fixtures); the others are
    the same table in their schema.
#}
{% macro instance_schemas(source_name) -%}
    {%- set schemas = var(source_name ~ '_union_schemas', none) -%}
    {%- if schemas is none -%}
        {%- set schemas = env_var('TRIBUTARY_' ~ source_name | upper ~ '_SCHEMAS', '').split(',') -%}
    {%- elif schemas is string -%}
        {%- set schemas = schemas.split(',') -%}
    {%- endif -%}
    {%- set named = [] -%}
    {%- for schema in schemas if schema | trim and (schema | trim) not in named -%}
        {%- if not modules.re.fullmatch('raw_[a-z0-9_]{1,59}', schema | trim) -%}
            {%- do exceptions.raise_compiler_error('instances: "' ~ schema | trim ~ '" in ' ~ source_name ~ '_union_schemas / TRIBUTARY_'
                ~ source_name | upper ~ '_SCHEMAS is not a loader\'s schema name (raw_ and lower-case letters, digits, _)') -%}
        {%- endif -%}
        {%- do named.append(schema | trim) -%}
    {%- endfor -%}
    {{- return(named or [instance_default_schema(source_name)]) -}}
{%- endmacro %}

{# The source's own schema, as its _<source>__sources.yml names it. #}
{% macro instance_default_schema(source_name) -%}
    {{- return(var(source_name ~ '_schema', 'raw_' ~ source_name)) -}}
{%- endmacro %}

{#
    Every instance's rows of one raw table, with `source_relation` first. One instance: its table
    as it is. Several: a union by column name (an instance whose table lacks a column gives null
    there, typed as the others have it); an instance that has not loaded the table yet adds no
    rows and is named in the log; a column typed differently in two instances stops the build,
    naming both.
#}
{% macro instance_rows(source_name, table_name) -%}
    {%- set schemas = instance_schemas(source_name) -%}
    {%- set default_relation = source(source_name, table_name) -%}
    {#- A unit test gives the source as a fixture (no schema): it stands for every instance. -#}
    {%- set is_fixture = default_relation.schema is none or (default_relation | string).startswith('__dbt__cte__') -%}
    {%- if schemas == [instance_default_schema(source_name)] or not execute or is_fixture -%}
        select '{{ schemas[0] if schemas | length == 1 else instance_default_schema(source_name) }}'::text as source_relation, raw_instance.*
        from {{ default_relation }} as raw_instance
    {%- else -%}
        {%- set found = instance_columns(schemas, default_relation.identifier) -%}
        {%- set columns = found['columns'] -%}
        {%- set present = schemas | select('in', found['schemas']) | list -%}
        {%- for schema in schemas if schema not in found['schemas'] -%}
            {%- do log('instances: ' ~ schema ~ '.' ~ default_relation.identifier ~ ' does not exist yet (its instance has not loaded '
                       ~ table_name ~ '): it adds no rows to ' ~ model.name, info=true) -%}
        {%- endfor -%}
        {%- if not present -%}
            {%- do exceptions.raise_compiler_error('instances: ' ~ default_relation.identifier ~ ' exists in none of '
                ~ schemas | join(', ') ~ ' (' ~ source_name ~ '_union_schemas / TRIBUTARY_' ~ source_name | upper
                ~ '_SCHEMAS): load at least one instance first') -%}
        {%- endif -%}
        {%- for schema in present %}
        {% if not loop.first %}union all{% endif %}
        select '{{ schema }}'::text as source_relation
            {%- for column, data_type in columns.items() -%}
            , {% if column in found['by_schema'][schema] %}{{ adapter.quote(column) }}{% else %}null::{{ data_type }} as {{ adapter.quote(column) }}{% endif %}
            {%- endfor %}
        from {{ default_relation if schema == instance_default_schema(source_name) else api.Relation.create(database=default_relation.database, schema=schema, identifier=default_relation.identifier) }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#
    The columns of `identifier` across `schemas`, from the catalog in one query: columns (name ->
    type, in the order they first appear), by_schema (schema -> its column names), schemas (those
    that have the table).
#}
{% macro instance_columns(schemas, identifier) -%}
    {%- set quoted = [] -%}
    {%- for schema in schemas -%}{%- do quoted.append("'" ~ schema | replace("'", "''") ~ "'") -%}{%- endfor -%}
    {%- set rows = run_query(
        "select namespace.nspname, attribute.attname, format_type(attribute.atttypid, attribute.atttypmod) "
        ~ "from pg_catalog.pg_attribute as attribute "
        ~ "join pg_catalog.pg_class as relation on relation.oid = attribute.attrelid "
        ~ "join pg_catalog.pg_namespace as namespace on namespace.oid = relation.relnamespace "
        ~ "where relation.relname = '" ~ identifier | replace("'", "''") ~ "' and namespace.nspname in (" ~ quoted | join(', ') ~ ") "
        ~ "and attribute.attnum > 0 and not attribute.attisdropped "
        ~ "order by array_position(array[" ~ quoted | join(', ') ~ "]::text[], namespace.nspname::text), attribute.attnum").rows -%}
    {%- set found = {'columns': {}, 'by_schema': {}, 'schemas': []} -%}
    {%- set typed_in = {} -%}
    {%- for schema, column, data_type in rows -%}
        {%- if schema not in found['schemas'] -%}
            {%- do found['schemas'].append(schema) -%}
            {%- do found['by_schema'].update({schema: []}) -%}
        {%- endif -%}
        {%- do found['by_schema'][schema].append(column) -%}
        {%- if column not in found['columns'] -%}
            {%- do found['columns'].update({column: data_type}) -%}
            {%- do typed_in.update({column: schema}) -%}
        {%- elif found['columns'][column] != data_type -%}
            {%- do exceptions.raise_compiler_error('instances: column ' ~ column ~ ' of ' ~ identifier ~ ' is '
                ~ found['columns'][column] ~ ' in ' ~ typed_in[column] ~ ' but ' ~ data_type
                ~ ' in ' ~ schema ~ ': the models cannot read the two together. Retype one (alter table … type …) '
                ~ 'or reload it into a fresh schema') -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}

{#
    Businesses. The cross-source models (identity, customer_360, the reconciliations, revenue by
    channel) join one business's systems: a customer is matched, and a day compared, within its
    business only. Each instance schema belongs to one business:
      - by its name: the default schemas (raw_shopify, raw_quickbooks, …) are business `main`, and
        raw_<source>_<name> is business <name>, so raw_shopify_acme and raw_quickbooks_acme are one
        business, acme (the README's way of declaring another business);
      - or as the user says, in the var `business_of_instances` (a dict) or TRIBUTARY_BUSINESS_OF
        (`raw_shopify_eu:acme,raw_shopify_us:acme`): two shops of one business, whose customers
        are then matched across both.
    The rule is applied to each row's source_relation (not to the configured list), so rows a
    model still holds from an instance no longer listed keep their own business. Every
    cross-source row carries `business`; record keys carry their instance (identity_record_key),
    so ids that repeat across instances never meet.
#}
{% macro stated_businesses() -%}
    {%- set stated = var('business_of_instances', none) -%}
    {%- if stated is none -%}
        {%- set stated = {} -%}
        {%- for pair in env_var('TRIBUTARY_BUSINESS_OF', '').split(',') if pair | trim -%}
            {%- set parts = (pair | trim).split(':') -%}
            {%- do stated.update({parts[0] | trim: (parts[1] if parts | length == 2 else '') | trim}) -%}
        {%- endfor -%}
    {%- endif -%}
    {#- Checked when a cross-source model runs, not while dbt parses the project: a parse error
        would stop every source's job (and the report's per-instance rounds parse with another
        default schema). -#}
    {%- if not execute -%}{{ return(stated) }}{%- endif -%}
    {%- set known = [] -%}
    {%- for source_name in ['quickbooks', 'attio', 'ga4', 'shopify'] -%}
        {%- for schema in instance_schemas(source_name) -%}
            {%- do known.append(schema) -%}
            {#- A schema whose name says no business would join `main` unseen: refused unless stated. -#}
            {%- if schema not in (instance_default_schema(source_name), 'raw_' ~ source_name) and schema not in stated
                  and not modules.re.fullmatch('raw_' ~ source_name ~ '_[a-z0-9_]+', schema) -%}
                {%- do exceptions.raise_compiler_error('businesses: ' ~ schema ~ ' (TRIBUTARY_' ~ source_name | upper ~ '_SCHEMAS) names no business: '
                    ~ 'call it raw_' ~ source_name ~ '_<business>, or say whose it is in TRIBUTARY_BUSINESS_OF (' ~ schema ~ ':<business>)') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for schema, business in stated.items() -%}
        {%- if not modules.re.fullmatch('raw_[a-z0-9_]{1,59}', schema) or not modules.re.fullmatch('[a-z][a-z0-9_]{0,39}', business) -%}
            {%- do exceptions.raise_compiler_error('businesses: "' ~ schema ~ ':' ~ business ~ '" in business_of_instances / TRIBUTARY_BUSINESS_OF '
                ~ 'is not <an instance schema>:<a business name> (raw_ and lower-case letters, digits, _; then a name of lower-case letters, digits, _)') -%}
        {%- endif -%}
        {%- if schema not in known -%}
            {%- do exceptions.raise_compiler_error('businesses: ' ~ schema ~ ' in business_of_instances / TRIBUTARY_BUSINESS_OF is no instance '
                ~ 'the models read (TRIBUTARY_<SOURCE>_SCHEMAS: ' ~ known | join(', ') ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(stated) -}}
{%- endmacro %}

{# The business of each row, from its source_relation (no instance: a unit test's fixture, `main`). #}
{% macro business_of(relation_column) -%}
    {%- set by_name = "coalesce(substring(" ~ relation_column ~ " from '^raw_(?:quickbooks|attio|ga4|shopify)_([a-z0-9_]+)$'), 'main')" -%}
    {%- set stated = stated_businesses() -%}
    {#- a default schema renamed by its var (shopify_schema: raw_shopify_prod) is still `main`'s -#}
    {%- set renamed = {} -%}
    {%- for source_name in ['quickbooks', 'attio', 'ga4', 'shopify'] if instance_default_schema(source_name) != 'raw_' ~ source_name -%}
        {%- do renamed.update({instance_default_schema(source_name): 'main'}) -%}
    {%- endfor -%}
    {%- do renamed.update(stated) -%}
    {%- set stated = renamed -%}
    {%- if stated -%}
        (case{% for schema, business in stated.items() %} when {{ relation_column }} = '{{ schema }}' then '{{ business }}'{% endfor %} else {{ by_name }} end)
    {%- else -%}
        {{ by_name }}
    {%- endif -%}
{%- endmacro %}

{#
    A source record's key across every instance: `attio:person:<id>` in the source's default
    schema (the keys a one-business warehouse always had), `<schema>/attio:person:<id>` in another
    (no instance, a unit test's fixture: the default schema's).
#}
{% macro identity_record_key(relation_column, source_name, source_object, id_expression) -%}
    coalesce(nullif({{ relation_column }}, '{{ instance_default_schema(source_name) }}') || '/', '')
        || '{{ source_name }}:{{ source_object }}:' || {{ id_expression }}
{%- endmacro %}

{#
    For the data-quality report (orchestrate/data_quality.py): each named source's instance
    schemas other than its default one, as the models read them, on one line of JSON. Source
    freshness and the tests on the raw tables read the default schema (_<source>__sources.yml);
    the report runs them again for each of the others.
        dbt run-operation print_other_instance_schemas --args '{sources: [shopify, attio]}'
#}
{% macro print_other_instance_schemas(sources) -%}
    {%- set others = {} -%}
    {%- for source_name in sources -%}
        {%- do others.update({source_name: instance_schemas(source_name) | reject('equalto', instance_default_schema(source_name)) | list}) -%}
    {%- endfor -%}
    {{- print('other_instance_schemas=' ~ tojson(others)) -}}
{%- endmacro %}
