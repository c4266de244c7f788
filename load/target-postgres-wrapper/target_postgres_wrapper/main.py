"""The loader's entry point: check the warehouse, then run our tuned target-postgres.

A warehouse that is down, or a wrong password, otherwise surfaces as a 160-line SQLAlchemy
traceback. Here it is one line naming the cause and the fix, and a non-zero exit before any
record is read, so Meltano advances no state. A warehouse lost while loading (restarted, crashed,
network gone) ends the same way: the traceback stays in the log, and the last word is one line
saying what happened and that a rerun is safe. A record its stream's schema rejects also ends
the run with one line naming the stream, the field and the fix (after the SDK's own log), and so
does a full listing that would mark more of a table deleted than max_deletion_share allows.

The target itself is target.py: the meltanolabs target-postgres, subclassed for speed.
"""

from __future__ import annotations

import gc
import json
import re
import sys
import traceback
from pathlib import Path

from tributary_tap_support.settings import typed_settings


def log(message: str) -> None:
    print(f"target-postgres-wrapper | {message}", file=sys.stderr, flush=True)


def diagnose(error: Exception, host: str, port: object, user: str, database: str) -> str:
    text = str(error)
    where = f"{host}:{port}"
    if "password authentication failed" in text or "no password supplied" in text:
        return (f"The warehouse at {where} refused user {user!r}: wrong password. "
                "Fix: set WAREHOUSE_LOADER_PASSWORD (prod) or TARGET_POSTGRES_PASSWORD to the right one.")
    if "does not exist" in text and "database" in text:
        return (f"The warehouse at {where} has no database {database!r}. "
                "Fix: create it, or set WAREHOUSE_DB to an existing one.")
    if "role" in text and "does not exist" in text:
        return (f"The warehouse at {where} has no user {user!r}. Fix: create the pipeline's roles "
                "(`python load/warehouse.py roles`, load/roles.py), or set TARGET_POSTGRES_USER.")
    return (f"Cannot reach the warehouse at {where} ({text.strip().splitlines()[0] if text.strip() else type(error).__name__}). "
            "Fix: in dev start it with `make warehouse-start`; in prod check WAREHOUSE_HOST and "
            "WAREHOUSE_PORT and that the server accepts connections from this machine.")


# Number settings. meltano.yml declares them without a Meltano `kind` (Meltano's own cast of
# "five" ends in a traceback naming no setting), so a setting variable arrives here as text:
# converted, or named with its fix, by the converter every plugin of ours shares.
NUMBER_SETTINGS = {"properties": {
    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432},
    "batch_size_rows": {"type": "integer", "minimum": 1, "default": 100000},
    "flattening_max_depth": {"type": "integer", "minimum": 1, "default": 1},
    "flattening_max_key_length": {"type": "integer", "minimum": 1, "default": 255},
    "max_deletion_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
}}
SETTING_NOTES = {
    "port": "the warehouse's port; in prod WAREHOUSE_PORT in .env",
    "batch_size_rows": "records per batch",
    "flattening_max_depth": "how deep nested objects are flattened into columns",
    "flattening_max_key_length": "the longest flattened column name",
    "max_deletion_share": "the largest part of a table's live rows one full listing may mark deleted; "
                          "1 accepts any deletions for one run",
}


def safe_load_method(config: dict) -> str | None:
    """Only `append-only`, the SDK's default and what this project's runs are built for: the target
    merges each stream on its key either way, and `overwrite` would drop a table on the first batch
    of every run, so an incremental run would leave only what changed since the last one."""
    method = config.get("load_method")
    if method in (None, "", "append-only"):
        return None
    return (f"TARGET_POSTGRES_LOAD_METHOD={method!r} is not supported here: incremental runs would lose the rows "
            "they do not send again. Fix: unset it (the default, append-only, merges on each stream's key).")


def keeps_change_stamps(config: dict) -> str | None:
    """The incremental models find what a load changed by the rows' _sdc_batched_at and
    _sdc_deleted_at (transform/macros/incremental/): without record metadata there are no stamps,
    and a hard delete leaves no row to stamp, so either would leave changes unseen."""
    for setting, value, why in (("add_record_metadata", False, "the rows would carry no change stamps"),
                                ("hard_delete", True, "a deleted row would leave no stamp behind")):
        if config.get(setting) is value:
            return (f"TARGET_POSTGRES_{setting.upper()}={str(value).lower()} is not supported here: {why}, and the "
                    f"incremental dbt models would keep what the source changed or deleted. Fix: unset it "
                    f"(meltano.yml's default, {str(not value).lower()}).")
    return None


def typed_numbers(config: dict) -> str | None:
    """Turn the number settings in `config` into numbers (in place), or say which are wrong."""
    problems = typed_settings(config, NUMBER_SETTINGS, "target-postgres", notes=SETTING_NOTES)
    return "; ".join(problems) + "." if problems else None


def check_warehouse(config: dict) -> str | None:
    """Connect as the target will, when it connects with the plain settings (host, port, user,
    password, database). A URL, an SSH tunnel or client certificates are the target's to use:
    the target itself then reports what fails."""
    if config.get("sqlalchemy_url") or (config.get("ssh_tunnel") or {}).get("enable") \
            or config.get("ssl_client_certificate_enable") or config.get("ssl_enable"):
        return None
    import psycopg

    host, port = config.get("host") or "localhost", config.get("port") or 5432
    user, database = config.get("user") or "", config.get("database") or ""
    try:
        psycopg.connect(host=host, port=port, user=user, password=config.get("password") or "",
                        dbname=database, connect_timeout=5).close()
    except psycopg.Error as error:
        return diagnose(error, host, port, user, database)
    return None


# What psycopg says when the server went away under an open connection or refuses new ones.
CONNECTION_LOST = ("server closed the connection unexpectedly", "terminating connection due to administrator command",
                   "the database system is shutting down", "the database system is starting up",
                   "Connection refused", "consuming input failed", "connection is closed", "SSL SYSCALL error")
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception)\b.*:")


def diagnose_failure(log_tail: str, config: dict) -> str:
    """One line for a loader that failed after it started: the cause and the fix."""
    where = f"{config.get('host') or 'localhost'}:{config.get('port') or 5432}"
    if "OperationalError" in log_tail and any(fragment in log_tail for fragment in CONNECTION_LOST):
        return (f"Lost the warehouse at {where} while loading (it stopped, restarted or became unreachable). "
                "Batches committed before stay, and Meltano kept only the state of what was committed, so a "
                "rerun loads the rest with no duplicates. Fix: make sure the warehouse is up (in dev "
                "`make warehouse-start`) and run again.")
    last_exception = next((line.strip() for line in reversed(log_tail.splitlines())
                           if EXCEPTION_LINE.match(line.strip())), "")
    return f"target-postgres failed{': ' + last_exception[:300] if last_exception else ''}; its log above has the details."


def main() -> None:
    args = sys.argv[1:]
    config: dict = {}
    if "--config" in args:
        config_path = Path(args[args.index("--config") + 1])
        config = json.loads(config_path.read_text())
        problem = typed_numbers(config) or safe_load_method(config) or keeps_change_stamps(config)
        if not problem:
            config_path.write_text(json.dumps(config))  # the target reads the converted numbers
            problem = check_warehouse(config)
        if problem:
            log("ERROR: " + problem)
            # Read the extractor's output to its end before failing: closing our stdin while
            # Meltano (4.4) still writes to it makes Meltano print a BrokenPipe traceback after
            # our message. Nothing is loaded and no state is emitted, so none is advanced.
            for _ in sys.stdin.buffer:
                pass
            log("ERROR: " + problem)
            sys.exit(1)
    from singer_sdk.exceptions import InvalidRecord

    from target_postgres_wrapper.sinks import DeletionGuardError, NameTooLongError
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
    except (DeletionGuardError, NameTooLongError) as error:
        log(f"ERROR: {error}")
        sys.exit(1)
    except Exception:  # noqa: BLE001 - any other failure: keep its traceback, end with the diagnosis
        details = traceback.format_exc()
        password = str(config.get("password") or "")
        if len(password) >= 6:
            details = details.replace(password, "****")
        sys.stderr.write(details)
        log("ERROR: " + diagnose_failure(details, config))
        sys.exit(1)


if __name__ == "__main__":
    main()
