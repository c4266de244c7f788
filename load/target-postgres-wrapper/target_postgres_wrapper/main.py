"""The loader's entry point: check the warehouse, then run our tuned target-postgres.

A warehouse that is down, or a wrong password, otherwise surfaces as a 160-line SQLAlchemy
traceback. Here it is one line naming the cause and the fix, and a non-zero exit before any
record is read, so Meltano advances no state. A record its stream's schema rejects also ends
the run with one line naming the stream, the field and the fix (after the SDK's own log).

The target itself is target.py: the meltanolabs target-postgres, subclassed for speed.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path


def log(message: str) -> None:
    print(f"target-postgres-wrapper | {message}", file=sys.stderr, flush=True)


def diagnose(error: Exception, host: str, port: object, user: str, database: str) -> str:
    text = str(error)
    where = f"{host}:{port}"
    if "password authentication failed" in text or "no password supplied" in text:
        return (f"The warehouse at {where} refused user {user!r}: wrong password. "
                "Fix: set WAREHOUSE_PASSWORD (prod) or TARGET_POSTGRES_PASSWORD to the right one.")
    if "does not exist" in text and "database" in text:
        return (f"The warehouse at {where} has no database {database!r}. "
                "Fix: create it, or set WAREHOUSE_DB to an existing one.")
    if "role" in text and "does not exist" in text:
        return (f"The warehouse at {where} has no user {user!r}. Fix: set WAREHOUSE_USER.")
    return (f"Cannot reach the warehouse at {where} ({text.strip().splitlines()[0] if text.strip() else type(error).__name__}). "
            "Fix: in dev start it with `make warehouse-start`; in prod check WAREHOUSE_HOST and "
            "WAREHOUSE_PORT and that the server accepts connections from this machine.")


def check_warehouse(config: dict) -> str | None:
    import psycopg

    host, port = config.get("host") or "localhost", config.get("port") or 5432
    user, database = config.get("user") or "", config.get("database") or ""
    try:
        psycopg.connect(host=host, port=port, user=user, password=config.get("password") or "",
                        dbname=database, connect_timeout=5).close()
    except psycopg.Error as error:
        return diagnose(error, host, port, user, database)
    return None


def main() -> None:
    args = sys.argv[1:]
    if "--config" in args:
        config = json.loads(Path(args[args.index("--config") + 1]).read_text())
        problem = check_warehouse(config)
        if problem:
            log("ERROR: " + problem)
            sys.exit(1)
    from singer_sdk.exceptions import InvalidRecord

    from target_postgres_wrapper.target import TributaryTargetPostgres

    # A batch holds thousands of nested records alive until it is written; with the default
    # thresholds the cyclic GC rescans them over and over (~17% of the CPU on order-like records).
    # Records hold no reference cycles, so collecting less often frees the same memory.
    gc.set_threshold(100_000, 50, 1000)
    try:
        TributaryTargetPostgres.cli(args, prog_name="target-postgres")
    except InvalidRecord as error:
        log(f"ERROR: invalid record in {error.error_message}")
        sys.exit(1)


if __name__ == "__main__":
    main()
