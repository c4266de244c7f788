"""Least privilege in the warehouse (load/roles.py): the loader writes raw_* only, dbt's role reads
raw_* and writes the models, the analyst reads and writes nothing, and none is a superuser (so
none can run `COPY … FROM PROGRAM`). Checked on the test stack's warehouse, which
`load/warehouse.py start` set up exactly as `make warehouse-start` does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg
import pytest

from this_worker import WAREHOUSE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "load"))
import roles  # noqa: E402


def connect(stack, role: str | None = None) -> psycopg.Connection:
    """As `role` with its dev password, or as the owner."""
    settings = dict(WAREHOUSE)
    if role:
        settings.update(user=role, password=roles.DEV_PASSWORDS[role])
    return psycopg.connect(**settings, autocommit=True)


def refused(conn: psycopg.Connection, statement: str) -> str:
    with pytest.raises(psycopg.Error) as error:
        conn.execute(statement)
    return str(error.value)


@pytest.fixture
def scratch(stack):
    with connect(stack) as owner:
        for schema in ("raw_roles_test", "roles_test_models", "raw_roles_legacy"):
            owner.execute(f"drop schema if exists {schema} cascade")
    yield
    with connect(stack) as owner:
        for schema in ("raw_roles_test", "roles_test_models", "raw_roles_legacy"):
            owner.execute(f"drop schema if exists {schema} cascade")


def test_no_pipeline_role_is_a_superuser_and_the_plugins_use_them(stack):
    with connect(stack) as owner:
        flags = dict(owner.execute("select rolname, rolsuper or rolcreaterole or rolcreatedb from pg_roles "
                                   "where rolname = any(%s)", (list(roles.ROLES),)).fetchall())
    assert flags == {role: False for role in roles.ROLES}
    for plugin, role in (("target-postgres", roles.LOADER), ("dbt", roles.TRANSFORMER)):
        printed = stack.meltano("config", "print", plugin)
        assert printed.ok, printed.output[-2000:]
        assert json.loads(printed.output[printed.output.index("{"):])["user"] == role


def test_each_role_may_do_its_part_and_nothing_more(stack, scratch, tmp_path):
    with connect(stack, roles.LOADER) as loader, connect(stack, roles.TRANSFORMER) as transformer, \
            connect(stack, roles.ANALYST) as analyst:
        # the loader: its raw_* schemas, nothing else, no server programs
        loader.execute("create schema raw_roles_test")
        loader.execute("create table raw_roles_test.things (id text primary key)")
        loader.execute("insert into raw_roles_test.things values ('a')")
        assert "raw_*" in refused(loader, "create schema roles_test_models")
        assert "permission denied" in refused(loader, "create table public.x (n int)")
        canary = tmp_path / "canary"
        assert "pg_execute_server_program" in refused(
            loader, f"copy raw_roles_test.things from program 'touch {canary}'")
        assert not canary.exists()
        assert "pg_read_server_files" in refused(loader, "copy raw_roles_test.things from '/etc/hostname'")
        # no code that would run as whoever reads it (dbt, or an administrator)
        assert "may not create view" in refused(loader, "create view raw_roles_test.v as select 1")
        assert "may not create function" in refused(
            loader, "create function raw_roles_test.f() returns int language sql as 'select 1'")
        assert "raw_* only" in refused(loader, "alter schema raw_roles_test rename to roles_test_renamed")

        # dbt's role: reads raw_*, builds its own schemas, never writes raw_*
        assert transformer.execute("select id from raw_roles_test.things").fetchall() == [("a",)]
        transformer.execute("create schema roles_test_models")
        transformer.execute("create table roles_test_models.built as select id from raw_roles_test.things")
        assert "permission denied" in refused(transformer, "insert into raw_roles_test.things values ('b')")
        assert "permission denied" in refused(transformer, "create table raw_roles_test.mine (n int)")
        assert "raw_*" in refused(transformer, "create schema raw_roles_other")
        assert "raw_*" in refused(transformer, "alter schema roles_test_models rename to raw_roles_other")
        transformer.execute("create view roles_test_models.v as select id from roles_test_models.built")  # dbt's views
        assert "may not create function" in refused(
            transformer, "create function roles_test_models.f() returns int language sql as 'select 1'")
        assert "permission denied" in refused(loader, "insert into roles_test_models.built values ('b')")

        # the analyst: reads both, writes nothing, creates nothing
        assert analyst.execute("select id from roles_test_models.built").fetchall() == [("a",)]
        assert analyst.execute("select id from raw_roles_test.things").fetchall() == [("a",)]
        for statement in ("insert into roles_test_models.built values ('b')", "delete from raw_roles_test.things",
                          "create schema anything", "create table roles_test_models.x (n int)",
                          "create temporary table t (n int)"):
            assert "permission denied" in refused(analyst, statement)


def test_schemas_built_before_the_roles_pass_to_their_writer(stack, scratch):
    """A warehouse from before the roles (everything owned by the owner) keeps working: its raw_*
    schemas pass to the loader, the others to dbt's role, readable as new ones are."""
    with connect(stack) as owner:
        owner.execute("create schema raw_roles_legacy")
        owner.execute("create table raw_roles_legacy.old (id text)")
        owner.execute("insert into raw_roles_legacy.old values ('kept')")
        roles.apply(owner, WAREHOUSE["dbname"], roles.passwords(dev=True))
        assert owner.execute("select tableowner from pg_tables where schemaname = 'raw_roles_legacy'").fetchone() == \
            (roles.LOADER,)
    with connect(stack, roles.LOADER) as loader, connect(stack, roles.TRANSFORMER) as transformer:
        loader.execute("alter table raw_roles_legacy.old add column note text")  # schema evolution
        loader.execute("insert into raw_roles_legacy.old values ('new', 'x')")
        assert transformer.execute("select count(*) from raw_roles_legacy.old").fetchone() == (2,)


MANAGED_OWNER, MANAGED_DATABASE = "tributary_test_managed_owner", "tributary_test_managed"


@pytest.fixture
def managed_server(stack):
    """A database whose owner is no superuser, as on a managed PostgreSQL (CREATEROLE and CREATEDB
    are what such services give their administrator)."""
    def clean(owner):
        owner.execute(f"drop database if exists {MANAGED_DATABASE}")
        owner.execute(f"drop role if exists {MANAGED_OWNER}")
    with connect(stack) as owner:
        clean(owner)
        owner.execute(f"drop database if exists {roles.MELTANO_DATABASE}")   # that owner creates it too
        owner.execute(f"create role {MANAGED_OWNER} login createrole createdb password 'managed-owner'")
        owner.execute(f"create database {MANAGED_DATABASE} owner {MANAGED_OWNER}")
    yield {**WAREHOUSE, "dbname": MANAGED_DATABASE}
    with connect(stack) as owner:
        clean(owner)


def test_an_owner_that_is_not_a_superuser_sets_up_the_same_roles(stack, managed_server, capsys):
    with psycopg.connect(**{**managed_server, "user": MANAGED_OWNER, "password": "managed-owner"},
                         autocommit=True) as owner:
        roles.apply(owner, MANAGED_DATABASE, roles.passwords(dev=True))
        roles.apply(owner, MANAGED_DATABASE, roles.passwords(dev=True))   # and again: it is idempotent
    assert "no event trigger enforces the schema policy" in capsys.readouterr().out

    def connect_as(role):
        return psycopg.connect(**{**managed_server, "user": role, "password": roles.DEV_PASSWORDS[role]}, autocommit=True)

    with connect_as(roles.LOADER) as loader, connect_as(roles.TRANSFORMER) as transformer, \
            connect_as(roles.ANALYST) as analyst:
        loader.execute("create schema raw_managed")
        loader.execute("create table raw_managed.things (id text)")
        loader.execute("insert into raw_managed.things values ('a')")
        transformer.execute("create schema managed_models")
        transformer.execute("create table managed_models.built as select id from raw_managed.things")
        assert "permission denied" in refused(transformer, "insert into raw_managed.things values ('b')")
        assert "permission denied" in refused(loader, "create table public.x (n int)")
        assert analyst.execute("select id from managed_models.built").fetchall() == [("a",)]
        for statement in ("insert into managed_models.built values ('b')", "create table managed_models.x (n int)",
                          "create temporary table t (n int)", "create schema anything"):
            assert "permission denied" in refused(analyst, statement)
        for connection in (loader, transformer, analyst):
            assert connection.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        connect_as(roles.MELTANO).close()   # Meltano's role has its own database, not this one
    with connect(stack) as owner:
        assert owner.execute("select pg_get_userbyid(datdba) from pg_database where datname = %s",
                             (roles.MELTANO_DATABASE,)).fetchone() == (roles.MELTANO,)
    psycopg.connect(**{**managed_server, "dbname": roles.MELTANO_DATABASE, "user": roles.MELTANO,
                       "password": roles.DEV_PASSWORDS[roles.MELTANO]}).close()
