"""Run dbt unchanged, and when it cannot connect to the warehouse, name the setting to fix.

Meltano calls this in place of `dbt` (transform/transformers.meltano.yml), with the same
arguments. dbt's own output goes through untouched, chunk by chunk (prompts included), and its
exit code is ours. Only three things are added:

1. before dbt starts, a warehouse port that is not a number is named with its fix (dbt would
   fail inside its profile with a message that names no setting);
2. when dbt fails because the warehouse refused or could not be found ("Database Error ...
   password authentication failed"), one last line says where dbt tried to connect, why it
   failed and which setting to check. The password is never printed;
3. a command that builds (build, run, seed, snapshot) holds a PostgreSQL advisory lock in the
   warehouse while dbt runs: one build at a time per warehouse, on any machine. Two jobs that build
   the same models (every shop's job builds the shop models) would otherwise replace the same
   tables at once, and dbt's table swap fails in one of them. A build that waits says so; the lock
   goes with the wrapper's connection, whatever ends it.

The connection settings reach dbt as the dbt plugin's own variables, DBT_HOST, DBT_PORT, …
(transform/profiles/profiles.yml), set by Meltano from its settings.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tributary_tap_support.settings import typed_settings

TAIL_BYTES = 64 * 1024  # enough of dbt's last output to find the connection error in

# A failure to connect, as libpq words it inside dbt's "Database Error": (pattern, why, what to check).
CONNECTION_FAILURES = [
    (re.compile(r"password authentication failed|no password supplied"), "password authentication failed",
     "check DBT_PASSWORD (dbt's role's password; in prod WAREHOUSE_TRANSFORMER_PASSWORD in .env)"),
    (re.compile(r"could not translate host name|Name or service not known|Temporary failure in name resolution"),
     "the host name does not resolve",
     "check DBT_HOST (the warehouse's host, same as TARGET_POSTGRES_HOST; in prod WAREHOUSE_HOST in .env)"),
    (re.compile(r"Connection refused"), "connection refused: nothing listens there",
     "start the warehouse (dev: `make warehouse-start`) or check DBT_HOST and DBT_PORT "
     "(the same as TARGET_POSTGRES_HOST and TARGET_POSTGRES_PORT; in prod WAREHOUSE_HOST and WAREHOUSE_PORT in .env)"),
    (re.compile(r'FATAL:\s+role "[^"]*" does not exist'), "no such user",
     "check DBT_USER (dbt's role, tributary_transformer: `python load/warehouse.py roles` creates it)"),
    (re.compile(r'FATAL:\s+database "[^"]*" does not exist'), "no such database",
     "check DBT_DBNAME (the same as TARGET_POSTGRES_DATABASE; in prod WAREHOUSE_DB in .env)"),
    (re.compile(r"timeout expired"), "no answer in time",
     "check DBT_HOST and DBT_PORT, and that the warehouse accepts connections from this machine"),
]


def log(message: str) -> None:
    print(f"dbt-wrapper | {message}", file=sys.stderr, flush=True)


# The number settings, declared without a Meltano `kind` (Meltano's own cast of "five" ends in a
# traceback naming no setting): checked here by the converter every plugin of ours shares. They
# reach dbt as DBT_<NAME> (profiles.yml reads them), so they are read from the environment.
NUMBER_SETTINGS = {"properties": {
    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432},
    "keepalives_idle": {"type": "integer", "minimum": 0, "default": 0},
}}
SETTING_NOTES = {
    "port": "the warehouse's port, the same as TARGET_POSTGRES_PORT; in prod WAREHOUSE_PORT in .env",
    "keepalives_idle": "seconds between TCP keepalive packets, 0 for the system's",
}


def settings_problem(env: dict) -> str | None:
    """One line naming every number setting in `env` that is not one, or None."""
    given = {name: env[f"DBT_{name.upper()}"] for name in NUMBER_SETTINGS["properties"] if f"DBT_{name.upper()}" in env}
    problems = typed_settings(given, NUMBER_SETTINGS, "dbt", notes=SETTING_NOTES)
    return "; ".join(problems) + "." if problems else None


def diagnose(output: str, env: dict) -> str | None:
    """One line for a dbt run that failed to connect to the warehouse; None for any other failure."""
    where = f"{env.get('DBT_HOST') or 'localhost'}:{env.get('DBT_PORT') or 5432}"
    user = env.get("DBT_USER") or "?"
    for pattern, why, check in CONNECTION_FAILURES:
        if pattern.search(output):
            return f"dbt cannot connect to the warehouse at {where} as {user}: {why} — {check}."
    return None


BUILDING_COMMANDS = {"build", "run", "seed", "snapshot"}
BUILD_LOCK = "tributary: one dbt build at a time"   # hashed to the advisory lock's key


def builds(args: list[str]) -> bool:
    """Whether the command may build: any argument naming a building command. An option's value
    that happens to be one (`--resource-type seed`) takes the lock needlessly, which only waits;
    taking the first word instead would miss `dbt --log-level debug build`."""
    return any(arg in BUILDING_COMMANDS for arg in args)


def hold_build_lock(env: dict):
    """A connection holding the warehouse's build lock (waited for, saying so), or None when the
    warehouse cannot be reached: dbt then fails on its own, and its failure is diagnosed."""
    import psycopg2  # dbt-postgres' driver, installed beside dbt

    try:
        conn = psycopg2.connect(host=env.get("DBT_HOST"), port=env.get("DBT_PORT") or 5432, user=env.get("DBT_USER"),
                                password=env.get("DBT_PASSWORD"), dbname=env.get("DBT_DBNAME"),
                                sslmode=env.get("DBT_SSLMODE") or "prefer", connect_timeout=10,
                                application_name="dbt-wrapper build lock", keepalives=1, keepalives_idle=60)
    except psycopg2.Error:
        return None
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("set idle_session_timeout = 0")  # idle while dbt runs: the lock must stay
            cur.execute("select pg_try_advisory_lock(hashtext(%s))", (BUILD_LOCK,))
            if not cur.fetchone()[0]:
                log("another dbt build is running in this warehouse: waiting for it to finish")
                cur.execute("select pg_advisory_lock(hashtext(%s))", (BUILD_LOCK,))
    except psycopg2.Error as error:
        log(f"ERROR: could not take the warehouse's build lock: {str(error).strip()}")
        conn.close()
        sys.exit(2)
    return conn


def _dbt_executable() -> str:
    beside_us = Path(sys.executable).parent / "dbt"
    return str(beside_us) if beside_us.exists() else "dbt"


def main() -> None:
    args = sys.argv[1:]
    problem = settings_problem(os.environ)
    if problem:
        log("ERROR: " + problem)
        sys.exit(2)  # dbt's own exit code for a run that could not start
    for name in NUMBER_SETTINGS["properties"]:   # an empty one is unset: profiles.yml's default applies
        if not os.environ.get(f"DBT_{name.upper()}", "-").strip():
            del os.environ[f"DBT_{name.upper()}"]

    lock = hold_build_lock(os.environ) if builds(args) else None
    process = subprocess.Popen([_dbt_executable(), *args], stdout=subprocess.PIPE)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: process.send_signal(signum))
    assert process.stdout is not None
    tail = b""
    out = sys.stdout.buffer
    while chunk := os.read(process.stdout.fileno(), 65536):
        out.write(chunk)
        out.flush()
        tail = (tail + chunk)[-TAIL_BYTES:]
    process.stdout.close()
    returncode = process.wait()
    if lock is not None:
        lock.close()
    if returncode != 0:
        explanation = diagnose(tail.decode(errors="replace"), os.environ)
        if explanation:
            log("ERROR: " + explanation)
    sys.exit(returncode)


if __name__ == "__main__":
    main()
