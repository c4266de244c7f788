"""Unit tests of the dbt wrapper and the loader's number check (the end-to-end tests run them for
real: tests/e2e/test_bad_config.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "transform" / "dbt-wrapper"))
sys.path.insert(0, str(ROOT / "load" / "target-postgres-wrapper"))
from dbt_wrapper.main import builds, diagnose, settings_problem  # noqa: E402
from target_postgres_wrapper.main import check_warehouse, safe_load_method, typed_numbers  # noqa: E402

ENV = {"DBT_HOST": "db.example", "DBT_PORT": "5433", "DBT_USER": "tributary_transformer",
       "DBT_PASSWORD": "s3cret-password"}


def test_a_refused_password_names_the_setting_and_never_the_password():
    dbt_said = ('Encountered an error:\nDatabase Error\n  connection to server at "10.0.0.5", port 5433 failed: '
                'FATAL:  password authentication failed for user "tributary_transformer"\n')
    line = diagnose(dbt_said, ENV)
    assert line == ("dbt cannot connect to the warehouse at db.example:5433 as tributary_transformer: password "
                    "authentication failed — check DBT_PASSWORD (dbt's role's password; in prod "
                    "WAREHOUSE_TRANSFORMER_PASSWORD in .env).")
    assert "s3cret-password" not in line


def test_unknown_host_refused_port_and_missing_database_are_told_apart():
    assert "check DBT_HOST" in diagnose('could not translate host name "nope" to address: Name or service not known', ENV)
    assert "make warehouse-start" in diagnose("connection to server failed: Connection refused", ENV)
    assert "check DBT_DBNAME" in diagnose('FATAL:  database "wh" does not exist', ENV)


def test_other_dbt_failures_get_no_extra_line():
    assert diagnose('Database Error in model stg_x\n  relation "raw.x" does not exist', ENV) is None
    assert diagnose("Compilation Error in model y", ENV) is None


def test_every_command_that_builds_takes_the_build_lock_and_no_other():
    # tests/e2e/test_several_shops.py shows a build waiting for the lock; here, which commands take it
    assert builds(["build", "--select", "source:shopify+"]) and builds(["run"]) and builds(["seed"])
    assert builds(["--log-level", "debug", "snapshot"])   # an option's value before the command
    assert not builds(["compile", "--select", "x"]) and not builds(["test"]) and not builds(["source", "freshness"])


def test_a_port_that_is_not_a_number_is_named():
    assert settings_problem({"DBT_PORT": "5432"}) is None
    assert settings_problem({}) is None
    assert settings_problem({"DBT_PORT": "five"}).startswith("DBT_PORT='five' is not a whole number")
    both = settings_problem({"DBT_PORT": "0", "DBT_KEEPALIVES_IDLE": "often"})
    assert both.startswith("DBT_PORT='0' is below 1, the least allowed") and "DBT_KEEPALIVES_IDLE='often' is not" in both


def test_the_loaders_numbers_are_converted_or_named():
    config = {"port": "5433", "batch_size_rows": 100000}
    assert typed_numbers(config) is None and config["port"] == 5433
    assert typed_numbers({"port": "five"}).startswith("TARGET_POSTGRES_PORT='five' is not a whole number (the warehouse's port")
    share = {"max_deletion_share": "0.25", "batch_size_rows": ""}
    assert typed_numbers(share) is None and share == {"max_deletion_share": 0.25}   # empty = unset
    assert "is above 1, the most allowed" in typed_numbers({"max_deletion_share": "2"})


def test_a_load_method_that_would_drop_tables_is_refused_by_name():
    assert safe_load_method({}) is None and safe_load_method({"load_method": "append-only"}) is None
    refusal = safe_load_method({"load_method": "overwrite"})
    assert refusal.startswith("TARGET_POSTGRES_LOAD_METHOD='overwrite' is not supported") and "unset it" in refusal


def test_the_warehouse_check_leaves_urls_tunnels_and_certificates_to_the_target():
    """It would try host/port/user and misreport a warehouse reached another way."""
    for other_way in ({"sqlalchemy_url": "postgresql+psycopg://u:p@db.example/wh"},
                      {"ssh_tunnel": {"enable": True, "port": 22}}, {"ssl_enable": True}):
        assert check_warehouse({"host": "nowhere.invalid", "port": 1, **other_way}) is None, other_way
    assert check_warehouse({"host": "127.0.0.1", "port": 9, "user": "x", "database": "x"}).startswith("Cannot reach")
