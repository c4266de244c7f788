"""The warehouse's roles: least privilege for every process that touches it.

    python load/warehouse.py roles     (as the database's owner: WAREHOUSE_USER / WAREHOUSE_PASSWORD)

`make warehouse-start` applies them to the dev warehouse; on a production PostgreSQL an owner runs
the command above once, with its credentials in that shell only (never in .env, which Meltano
hands to every plugin). New sources need nothing more. What each role may do:

| role                    | used by                      | may                                                            |
|-------------------------|------------------------------|----------------------------------------------------------------|
| WAREHOUSE_USER (owner)  | this setup only              | everything (creates the roles, the database's grants)          |
| tributary_loader        | target-postgres              | create schemas named raw_*, write only in them                 |
| tributary_transformer   | dbt, the data-quality report | read raw_*; create and write staging, intermediate, marts, …   |
| tributary_analyst       | people, dashboards, make demo's summary | read the project's schemas; no table, no temp table |
| tributary_meltano       | Meltano's system database    | own the database meltano_system (state, runs); nothing in the warehouse |

None is a superuser, so none can `COPY … FROM/TO PROGRAM` or read server files. New tables get
their grants from default privileges (what the loader creates is readable by the transformer and
the analyst, what the transformer creates by the analyst), and an event trigger refuses a schema
created against the policy (the loader outside raw_*, the transformer inside it); creating an event
trigger needs a superuser, so on a server where the owner is not one it is skipped, with a warning. Passwords: WAREHOUSE_LOADER_PASSWORD,
WAREHOUSE_TRANSFORMER_PASSWORD, WAREHOUSE_ANALYST_PASSWORD, WAREHOUSE_MELTANO_PASSWORD (dev: fixed
`tributary-<role>-dev`).

Meltano's system database (MELTANO_DATABASE_URI: state, run history, each run's plugin settings)
is a database of its own, meltano_system, owned by tributary_meltano: Meltano creates and migrates
its tables there, and no pipeline role can read the state or the settings it holds. Dagster's
instance on more than one machine (orchestrate/dagster/postgres/: runs, schedules, event log) is
another, dagster_instance, owned by the same role: the processes that write it are the ones that
run Meltano. Outside dev both are set up only when WAREHOUSE_MELTANO_PASSWORD is set.
"""

from __future__ import annotations

import os

LOADER, TRANSFORMER, ANALYST = "tributary_loader", "tributary_transformer", "tributary_analyst"
MELTANO, MELTANO_DATABASE = "tributary_meltano", "meltano_system"
DAGSTER_DATABASE = "dagster_instance"  # owned by MELTANO too, apart from Meltano's (both have a table `runs`)
ROLES = {LOADER: "WAREHOUSE_LOADER_PASSWORD", TRANSFORMER: "WAREHOUSE_TRANSFORMER_PASSWORD",
         ANALYST: "WAREHOUSE_ANALYST_PASSWORD", MELTANO: "WAREHOUSE_MELTANO_PASSWORD"}
READERS = {LOADER: (TRANSFORMER, ANALYST), TRANSFORMER: (ANALYST,)}  # who reads what each writer creates
DEV_PASSWORDS = {LOADER: "tributary-loader-dev", TRANSFORMER: "tributary-transformer-dev",
                 ANALYST: "tributary-analyst-dev", MELTANO: "tributary-meltano-dev"}

# Enforced by an event trigger (it needs a superuser owner to be installed): schemas keep to their
# writer (checked by name, on creation and rename), and neither pipeline role may create code that
# runs as whoever reads its objects (a view over the loader's own function would run that function
# as dbt, or as an administrator running a count).
CODE_TAGS = ("CREATE FUNCTION", "ALTER FUNCTION", "CREATE PROCEDURE", "ALTER PROCEDURE", "CREATE TRIGGER",
             "CREATE RULE", "CREATE AGGREGATE", "CREATE OPERATOR")
LOADER_REFUSED_TAGS = ("CREATE VIEW", "CREATE MATERIALIZED VIEW")
SCHEMA_POLICY = f"""
create or replace function tributary_schema_policy() returns event_trigger
language plpgsql as $policy$
declare
    command record;
    schema_name text;
begin
    if current_user not in ('{LOADER}', '{TRANSFORMER}') then
        return;
    end if;
    for command in select command_tag, objid from pg_event_trigger_ddl_commands() loop
        if command.command_tag in ({", ".join(f"'{tag}'" for tag in CODE_TAGS)})
                or (current_user = '{LOADER}' and command.command_tag in ({", ".join(f"'{tag}'" for tag in LOADER_REFUSED_TAGS)})) then
            raise exception '% may not %: no code runs as the pipeline''s roles (load/roles.py)', current_user,
                lower(command.command_tag);
        end if;
        if command.command_tag in ('CREATE SCHEMA', 'ALTER SCHEMA') then
            select nspname into schema_name from pg_namespace where oid = command.objid;
            if current_user = '{LOADER}' and schema_name not like 'raw\\_%' then
                raise exception '{LOADER} may have schemas named raw_* only, not %', schema_name;
            end if;
            if current_user = '{TRANSFORMER}' and schema_name like 'raw\\_%' then
                raise exception '{TRANSFORMER} may not have raw_* schemas (the loader''s): %', schema_name;
            end if;
        end if;
    end loop;
end
$policy$
"""
POLICY_TAGS = ("CREATE SCHEMA", "ALTER SCHEMA", *CODE_TAGS, *LOADER_REFUSED_TAGS)
# The project's own schemas (besides raw_*): dbt's (transform/dbt_project.yml, profiles.yml)
DBT_SCHEMAS = ("staging", "intermediate", "marts", "analytics")


def passwords(dev: bool) -> dict[str, str]:
    """Each role's password: its variable, else (dev only) the fixed dev one."""
    out = {}
    for role, variable in ROLES.items():
        value = os.environ.get(variable) or (DEV_PASSWORDS[role] if dev else "")
        if not value and role == MELTANO:
            continue   # optional: Meltano may keep its state elsewhere (SQLite in the checkout)
        if not value:
            raise ValueError(f"set {variable} (the {role} role's password) before creating the roles")
        out[role] = value
    return out


def apply(conn, database: str, role_passwords: dict[str, str]) -> None:
    """Create or update the roles and the grants (autocommit connection, as the owner)."""
    from psycopg import sql

    def run(statement: str, *identifiers: str) -> None:
        conn.execute(sql.SQL(statement).format(*(sql.Identifier(name) for name in identifiers)))

    owner_is_superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
    for role, password in role_passwords.items():
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        # sent hashed, as the server would store it: no statement log holds the password
        hashed = conn.pgconn.encrypt_password(password.encode(), role.encode()).decode()
        # (only a superuser may name the superuser attribute at all, even to keep it off)
        # Meltano's role inherits: it owns its database's `public` schema through pg_database_owner,
        # a membership only an inheriting role uses. The others are members of nothing.
        flags = ("login nocreatedb nocreaterole " + ("inherit" if role == MELTANO else "noinherit")
                 + (" nosuperuser" if owner_is_superuser else ""))
        conn.execute(sql.SQL(verb + " role {} " + flags + " password {}").format(sql.Identifier(role), sql.Literal(hashed)))
        if not owner_is_superuser:  # a managed server's owner must be able to act as the role below
            run("grant {} to current_user", role)
    run("grant connect on database {} to {}, {}, {}", database, LOADER, TRANSFORMER, ANALYST)
    run("grant temporary, create on database {} to {}, {}", database, LOADER, TRANSFORMER)  # (the loader merges via temp tables)
    run("revoke create on schema public from public")
    # dbt's sessions run without PostgreSQL's JIT compiler: the models' plans carry huge cost
    # estimates (nested loops switched off in the identity models, array sub-selects), so it compiled
    # them with LLVM at full optimisation, 5 s for a query that runs in 1 (bench/RESULTS.md). Set on
    # the role, in the server: a connection pooler in between passes no startup options.
    run("alter role {} set jit = off", TRANSFORMER)
    # what each writer creates from now on, the next one reads
    for writer, readers in READERS.items():
        for reader in readers:
            run("alter default privileges for role {} grant usage on schemas to {}", writer, reader)
            run("alter default privileges for role {} grant select on tables to {}", writer, reader)
    if owner_is_superuser:
        conn.execute(SCHEMA_POLICY)
        conn.execute("drop event trigger if exists tributary_schema_policy")
        conn.execute(sql.SQL("create event trigger tributary_schema_policy on ddl_command_end when tag in ({}) "
                             "execute function tributary_schema_policy()").format(
            sql.SQL(", ").join(sql.Literal(tag) for tag in POLICY_TAGS)))
    else:
        print("warning: the owner is not a superuser, so no event trigger enforces the schema policy (the loader "
              "in raw_* only, no code in either pipeline role): the grants alone hold (README, Security)")
    adopt_existing(conn)
    if MELTANO in role_passwords:
        orchestration_database(conn)
        orchestration_database(conn, DAGSTER_DATABASE)
    else:
        print(f"note: {ROLES[MELTANO]} is not set, so neither {MELTANO} nor its databases {MELTANO_DATABASE} and "
              f"{DAGSTER_DATABASE} were set "
              "up (Meltano keeps its state in .meltano/meltano.db unless MELTANO_DATABASE_URI says otherwise)")
    # last: other users of a shared database keep their access until the roles are in place
    run("revoke connect, temporary on database {} from public", database)


def orchestration_database(conn, name: str = MELTANO_DATABASE) -> None:
    """Meltano's system database, or Dagster's instance (`name`): a database of the orchestration,
    owned by its own role and closed to the pipeline's roles (the server's superusers, and on a
    managed server the owner, which is granted the role, aside): it holds the state and each run's
    plugin settings, credentials included.
    One that exists already, owned by another role, is left as it is, with a warning."""
    import psycopg
    from psycopg import sql

    found = conn.execute("select pg_get_userbyid(datdba) from pg_database where datname = %s",
                         (name,)).fetchone()
    if found and found[0] != MELTANO:
        print(f"warning: the database {name} exists, owned by {found[0]}, so it was left as it is: "
              f"it wants {MELTANO} as its owner (README, Security)")
        return
    if not found:
        try:
            conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(name),
                                                                       sql.Identifier(MELTANO)))
        except psycopg.errors.InsufficientPrivilege:
            print(f"warning: this owner may not create databases, so {name} was not created: create "
                  f"it owned by {MELTANO} as an administrator (README, Security)")
            return
    conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(name)))


def adopt_existing(conn) -> None:
    """Schemas built before these roles existed (by the owner) pass to the role that writes them,
    with the grants default privileges would have given."""
    from psycopg import sql

    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
    schemas = conn.execute(  # only the project's own, and only what this owner built
        "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
        "where (nspname like 'raw\\_%%' or nspname = any(%s)) and nspowner = (select oid from pg_roles where rolname = current_user)",
        (list(DBT_SCHEMAS),)).fetchall()
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
