"""Check the warehouse before target-postgres starts, run it, and name the cause of a failure.

A warehouse that is down, or a wrong password, otherwise surfaces as a 160-line SQLAlchemy
traceback. Here it is one line naming the cause and the fix, and a non-zero exit before any
record is read, so Meltano advances no state. A warehouse lost while loading (restarted, crashed,
network gone) ends the same way: target-postgres' traceback stays in the log, and the last word
is one line saying what happened and that a rerun is safe.
"""

from __future__ import annotations

import json
import re
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


def run_target(target: str, args: list[str], config: dict) -> int:
    """Run target-postgres with our stdin and stdout (the Singer stream and its state messages),
    relaying its log with the warehouse password masked and keeping the tail to diagnose."""
    # Imported here, not at the top, so a failed pre-check exits as quickly as before: the later
    # it exits, the likelier Meltano 4.4.1 trips over a broken pipe while feeding it the tap's
    # first lines and prints its own traceback after our message.
    import collections
    import signal
    import subprocess

    password = str(config.get("password") or "")
    process = subprocess.Popen([target, *args], stderr=subprocess.PIPE, text=True, bufsize=1, errors="replace")
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: process.send_signal(signum))
    tail: collections.deque[str] = collections.deque(maxlen=300)
    assert process.stderr is not None
    for line in process.stderr:
        if len(password) >= 6:
            line = line.replace(password, "****")
        sys.stderr.write(line)
        tail.append(line)
    returncode = process.wait()
    if returncode != 0:
        log("ERROR: " + diagnose_failure("".join(tail), config))
    return returncode


def main() -> None:
    args = sys.argv[1:]
    target = str(Path(sys.executable).parent / "target-postgres")
    config: dict = {}
    if "--config" in args:
        config = json.loads(Path(args[args.index("--config") + 1]).read_text())
        problem = check_warehouse(config)
        if problem:
            log("ERROR: " + problem)
            sys.exit(1)
    sys.exit(run_target(target, args, config))


if __name__ == "__main__":
    main()
