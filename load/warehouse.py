"""The project's own local PostgreSQL warehouse: start, stop, status, url.

Meltano cannot start a database, so this script does, for development, tests and the demo.
Production points WAREHOUSE_* at a real server and never runs this.

    python load/warehouse.py start|stop|status|url|roles

- Data lives in ./.warehouse (ignored by git; WAREHOUSE_DIR moves it).
- Uses the system PostgreSQL binaries (/usr/lib/postgresql/<v>/bin) where present, otherwise the
  binaries bundled in the `pgserver` wheel (requirements-dev.txt installs it).
- Listens on TCP only (WAREHOUSE_HOST:WAREHOUSE_PORT, default 127.0.0.1:55432) with password
  auth, so the warehouse behaves like the production one; no unix socket (CI paths can be longer
  than a socket path may be).
- PostgreSQL refuses to run as root: as root the cluster is owned by the `postgres` system user
  (or a `tributary-pg` user created for it). When that user cannot reach the project folder
  (a clone under /root, say), the data goes to /tmp/tributary-warehouse-<hash of the folder>.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import roles  # noqa: E402  (load/roles.py: who may do what in the warehouse)


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


HOST = _env("WAREHOUSE_HOST", "127.0.0.1")
PORT = int(_env("WAREHOUSE_PORT", "55432"))
USER = _env("WAREHOUSE_USER", "tributary")
PASSWORD = _env("WAREHOUSE_PASSWORD", "tributary-dev")
DATABASE = _env("WAREHOUSE_DB", "warehouse")
REQUESTED_DIR = Path(_env("WAREHOUSE_DIR", str(PROJECT_ROOT / ".warehouse"))).resolve()


class WarehouseError(Exception):
    """A problem the user can fix; main() prints it without a traceback."""


def find_binaries() -> Path:
    system = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if system:
        return Path(system[-1]).parent
    try:
        import pgserver  # noqa: F401  (only the bundled binaries are used)
    except ImportError:
        raise WarehouseError(
            "No PostgreSQL binaries found: install Debian's postgresql-15 package, or run "
            "`.venv/bin/pip install pgserver==0.1.4` for its bundled binaries."
        )
    install = Path(pgserver.__file__).parent / "pginstall"
    if not (install / "bin" / "pg_ctl").exists():
        raise WarehouseError(f"pgserver is installed but {install}/bin/pg_ctl is missing.")
    account = _server_user()
    if account is not None and not _reachable_by(account, install / "bin" / "pg_ctl"):
        # The server user cannot reach into this venv (a clone under /root, say): use a copy,
        # keeping the layout the binaries' RPATH expects (…/pgserver/pginstall → …/pgserver.libs).
        site = install.parent.parent
        copy = Path(tempfile.gettempdir()) / f"tributary-pgserver-{hashlib.sha1(str(site).encode()).hexdigest()[:12]}"
        if not (copy / "pgserver" / "pginstall" / "bin" / "pg_ctl").exists():
            _copy_whole(site, copy)
        install = copy / "pgserver" / "pginstall"
    return install / "bin"


def _copy_whole(site: Path, copy: Path) -> None:
    """Copy pgserver's binaries to `copy` aside, then rename: several warehouses starting at once
    (the test workers on a new machine) each see no copy or a whole one, never one half-written."""
    staging = Path(tempfile.mkdtemp(prefix=copy.name + ".partial-", dir=copy.parent))
    try:
        staging.chmod(0o755)  # the server user walks through it
        shutil.copytree(site / "pgserver" / "pginstall", staging / "pgserver" / "pginstall")
        if (site / "pgserver.libs").exists():
            shutil.copytree(site / "pgserver.libs", staging / "pgserver.libs")
        if copy.exists() and not (copy / "pgserver" / "pginstall" / "bin" / "pg_ctl").exists():
            shutil.rmtree(copy, ignore_errors=True)  # an older half copy, from before copies were renamed
        try:
            os.rename(staging, copy)
        except OSError:
            if not (copy / "pgserver" / "pginstall" / "bin" / "pg_ctl").exists():
                raise
            # another start renamed its whole copy first: that one serves
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "tributary-pg"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    created = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "tributary-pg"],
        capture_output=True, text=True,
    )
    try:
        # useradd fails when another start (a parallel test worker) added the user first: that is fine
        return pwd.getpwnam("tributary-pg")
    except KeyError:
        raise WarehouseError(f"as root the server runs as an unprivileged user, and `useradd tributary-pg` "
                             f"failed: {created.stderr.strip()}; create a user named postgres or tributary-pg") from None


def _reachable_by(account: pwd.struct_passwd, path: Path) -> bool:
    """Can the server user walk down to `path`? (Every ancestor must let it search.)"""
    for folder in [*reversed(path.parents)]:
        if not folder.exists():
            return True  # we create the rest, searchable by all
        info = folder.stat()
        if info.st_uid == account.pw_uid:
            mode_bit = 0o100
        elif info.st_gid == account.pw_gid:
            mode_bit = 0o010
        else:
            mode_bit = 0o001
        if not info.st_mode & mode_bit:
            return False
    return True


def _base_dir() -> Path:
    account = _server_user()
    if account is None or _reachable_by(account, REQUESTED_DIR):
        return REQUESTED_DIR
    digest = hashlib.sha1(str(REQUESTED_DIR).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"tributary-warehouse-{digest}"


BASE_DIR = _base_dir()
DATA_DIR = BASE_DIR / "data"
LOG_FILE = BASE_DIR / "postgres.log"


def _run_as_server_user(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    account = _server_user()
    if account is not None:
        def drop_privileges() -> None:
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)

        kwargs["preexec_fn"] = drop_privileges
        kwargs.setdefault("env", {**os.environ, "HOME": str(BASE_DIR)})
    return subprocess.run(cmd, text=True, capture_output=True, **kwargs)


def port_move_advice(port: int) -> str:
    """What moves the dev warehouse to `port`: this script reads WAREHOUSE_PORT, the dev
    environment's loader and dbt their own Meltano setting variables (meltano.yml gives them
    55432; .env is production's, so the advice is not to put them there)."""
    return f"export WAREHOUSE_PORT={port} TARGET_POSTGRES_PORT={port} DBT_PORT={port}"


def _free_port_after(port: int) -> int:
    """The first port after `port` nothing answers on, to name in the advice."""
    return next((p for p in range(port + 1, port + 100) if not _port_is_open(HOST, p)), port + 1)


def _port_is_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def is_running() -> bool:
    if not DATA_DIR.exists():
        return False
    result = _run_as_server_user([str(find_binaries() / "pg_ctl"), "status", "-D", str(DATA_DIR)])
    return result.returncode == 0


def _init_cluster(bin_dir: Path) -> None:
    BASE_DIR.mkdir(parents=True, exist_ok=True)
    account = _server_user()
    with tempfile.NamedTemporaryFile("w", dir=BASE_DIR, delete=False) as pwfile:
        pwfile.write(PASSWORD + "\n")
    try:
        if account is not None:
            os.chown(BASE_DIR, account.pw_uid, account.pw_gid)
            os.chown(pwfile.name, account.pw_uid, account.pw_gid)
        result = _run_as_server_user([
            str(bin_dir / "initdb"), "-D", str(DATA_DIR), "-U", USER, "--pwfile", pwfile.name,
            "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--locale=C",
        ])
    finally:
        os.unlink(pwfile.name)
    if result.returncode != 0:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        raise WarehouseError(f"initdb failed:\n{result.stderr.strip()}")
    # A development warehouse: durability of the last few commits matters less than load speed.
    with open(DATA_DIR / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# tributary: local development warehouse\n"
            "unix_socket_directories = ''\n"
            "synchronous_commit = off\n"
            "shared_buffers = 256MB\n"
            "max_connections = 50\n"
        )


def _create_database() -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=HOST, port=PORT, user=USER, password=PASSWORD, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))


def start() -> None:
    bin_dir = find_binaries()
    if is_running():
        apply_roles(dev=True)  # a warehouse from before the roles gets them (idempotent)
        print(f"Warehouse already running on {HOST}:{PORT} (data in {DATA_DIR}).")
        return
    if _port_is_open(HOST, PORT):
        raise WarehouseError(
            f"Port {HOST}:{PORT} is already taken by another program. Stop it, or move the dev "
            f"warehouse for every part that uses it (this script, the loader and dbt), in this shell "
            f"before `make` and `meltano`: {port_move_advice(_free_port_after(PORT))}"
        )
    if not (DATA_DIR / "PG_VERSION").exists():
        _init_cluster(bin_dir)
    result = _run_as_server_user([
        str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(DATA_DIR), "-l", str(LOG_FILE),
        "-o", f"-h {HOST} -p {PORT}",
    ])
    if result.returncode != 0:
        log_tail = LOG_FILE.read_text(errors="replace")[-2000:] if LOG_FILE.exists() else ""
        raise WarehouseError(f"PostgreSQL did not start:\n{result.stderr.strip()}\n{log_tail}")
    _create_database()
    apply_roles(dev=True)
    print(f"Warehouse running on {HOST}:{PORT}, database {DATABASE} (data in {DATA_DIR}); roles "
          f"{', '.join(roles.ROLES)} for the loader, dbt, people and Meltano's own database (load/roles.py).")


def apply_roles(dev: bool) -> None:
    """The pipeline's least-privilege roles (load/roles.py), applied as the owner."""
    import psycopg

    try:
        role_passwords = roles.passwords(dev)
    except ValueError as error:
        raise WarehouseError(str(error)) from None
    try:
        with psycopg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DATABASE,
                             autocommit=True, connect_timeout=10) as conn:
            roles.apply(conn, DATABASE, role_passwords)
    except psycopg.Error as error:
        raise WarehouseError(f"could not set up the roles on {HOST}:{PORT}/{DATABASE} as {USER}: "
                             f"{str(error).strip().splitlines()[0]}") from None


def stop() -> None:
    if not is_running():
        print("Warehouse is not running.")
        return
    result = _run_as_server_user(
        [str(find_binaries() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(DATA_DIR)]
    )
    if result.returncode != 0:
        raise WarehouseError(f"pg_ctl stop failed:\n{result.stderr.strip()}")
    print("Warehouse stopped.")


def url() -> str:
    return f"postgresql://{USER}@{HOST}:{PORT}/{DATABASE}"


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    try:
        if command == "start":
            start()
        elif command == "stop":
            stop()
        elif command == "status":
            if not is_running():
                print(f"Warehouse is not running. Start it with `make warehouse-start`.")
                return 1
            print(f"Warehouse running: {url()} (data in {DATA_DIR}).")
        elif command == "url":
            print(url())
        elif command == "roles":  # production: once, as the database's owner (load/roles.py)
            apply_roles(dev=False)
            print(f"Roles {', '.join(roles.ROLES)} set up on {HOST}:{PORT}/{DATABASE}.")
        else:
            print(__doc__)
            return 2
    except WarehouseError as error:
        print(f"warehouse: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
