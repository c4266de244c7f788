"""The warehouse's roles: least privilege for every process that touches it.

    python load/warehouse.py roles     (as the database's owner: WAREHOUSE_USER / WAREHOUSE_PASSWORD)

`make warehouse-start` applies them to the dev warehouse; on a production PostgreSQL an owner runs
the command above once (and again after adding a source: it is idempotent). What each role may do:

| role                    | used by                      | may                                                            |
|-------------------------|------------------------------|----------------------------------------------------------------|
| WAREHOUSE_USER (owner)  | this setup only              | everything (creates the roles, the database's grants)          |
| tributary_loader        | target-postgres              | create schemas named raw_*, write only in them                 |
| tributary_transformer   | dbt, the data-quality report | read raw_*; create and write staging, intermediate, marts, …   |
| tributary_analyst       | people, dashboards, make demo's summary | read every schema; write nothing                    |

None is a superuser, so none can `COPY … FROM/TO PROGRAM` or read server files. New tables get
their grants from default privileges (what the loader creates is readable by the transformer and
the analyst, what the transformer creates by the analyst), and an event trigger refuses a schema
created against the policy (the loader outside raw_*, the transformer inside it); creating an event
trigger needs a superuser, so on a server where the owner is not one it is skipped, with a warning. Passwords: WAREHOUSE_LOADER_PASSWORD,
WAREHOUSE_TRANSFORMER_PASSWORD, WAREHOUSE_ANALYST_PASSWORD (dev: fixed `tributary-<role>-dev`).
"""

from __future__ import annotations

import os

LOADER, TRANSFORMER, ANALYST = "tributary_loader", "tributary_transformer", "tributary_analyst"
ROLES = {LOADER: "WAREHOUSE_LOADER_PASSWORD", TRANSFORMER: "WAREHOUSE_TRANSFORMER_PASSWORD",
         ANALYST: "WAREHOUSE_ANALYST_PASSWORD"}
READERS = {LOADER: (TRANSFORMER, ANALYST), TRANSFORMER: (ANALYST,)}  # who reads what each writer creates
DEV_PASSWORDS = {LOADER: "tributary-loader-dev", TRANSFORMER: "tributary-transformer-dev",
                 ANALYST: "tributary-analyst-dev"}

SCHEMA_POLICY = f"""
create or replace function tributary_schema_policy() returns event_trigger
language plpgsql as $policy$
declare
    created record;
begin
    for created in select object_identity from pg_event_trigger_ddl_commands()
                   where command_tag = 'CREATE SCHEMA' loop
        if current_user = '{LOADER}' and created.object_identity not like 'raw\\_%' then
            raise exception '{LOADER} may create schemas named raw_* only, not %', created.object_identity;
        end if;
        if current_user = '{TRANSFORMER}' and created.object_identity like 'raw\\_%' then
            raise exception '{TRANSFORMER} may not create raw_* schemas (the loader''s): %', created.object_identity;
        end if;
    end loop;
end
$policy$
"""


def passwords(dev: bool) -> dict[str, str]:
    """Each role's password: its variable, else (dev only) the fixed dev one."""
    out = {}
    for role, variable in ROLES.items():
        value = os.environ.get(variable) or (DEV_PASSWORDS[role] if dev else "")
        if not value:
            raise ValueError(f"set {variable} (the {role} role's password) before creating the roles")
        out[role] = value
    return out


def apply(conn, database: str, role_passwords: dict[str, str]) -> None:
    """Create or update the roles and the grants (autocommit connection, as the owner)."""
    from psycopg import sql

    def run(statement: str, *identifiers: str) -> None:
        conn.execute(sql.SQL(statement).format(*(sql.Identifier(name) for name in identifiers)))

    for role, password in role_passwords.items():
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(sql.SQL(verb + " role {} login nosuperuser nocreatedb nocreaterole noinherit password {}").format(
            sql.Identifier(role), sql.Literal(password)))
    run("revoke all on database {} from public", database)
    run("grant connect, temporary on database {} to {}, {}, {}", database, LOADER, TRANSFORMER, ANALYST)
    run("grant create on database {} to {}, {}", database, LOADER, TRANSFORMER)
    run("revoke create on schema public from public")
    # what each writer creates from now on, the next one reads
    for writer, readers in READERS.items():
        for reader in readers:
            run("alter default privileges for role {} grant usage on schemas to {}", writer, reader)
            run("alter default privileges for role {} grant select on tables to {}", writer, reader)
    if conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
        conn.execute(SCHEMA_POLICY)
        if not conn.execute("select 1 from pg_event_trigger where evtname = 'tributary_schema_policy'").fetchone():
            conn.execute("create event trigger tributary_schema_policy on ddl_command_end "
                         "when tag in ('CREATE SCHEMA') execute function tributary_schema_policy()")
    else:
        print("warning: the owner is not a superuser, so the schema policy (loader in raw_* only) is not enforced "
              "by an event trigger; the grants still hold")
    adopt_existing(conn)


def adopt_existing(conn) -> None:
    """Schemas built before these roles existed (by the owner) pass to the role that writes them,
    with the grants default privileges would have given."""
    from psycopg import sql

    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
    schemas = conn.execute(
        "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
        "where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public')").fetchall()
    for schema, owner in schemas:
        writer = LOADER if schema.startswith("raw_") else TRANSFORMER
        if owner != writer:
            conn.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), sql.Identifier(writer)))
        for name, kind in conn.execute(
                "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') and pg_get_userbyid(c.relowner) <> %s",
                (schema, writer)).fetchall():
            conn.execute(sql.SQL("alter " + kinds[kind] + " {} owner to {}").format(
                sql.Identifier(schema, name), sql.Identifier(writer)))
        for reader in READERS[writer]:
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(reader)))
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(
                sql.Identifier(schema), sql.Identifier(reader)))
