"""What the operations commands share: where things live, Meltano's own lists, per-job locks.

Sources are never listed here: they are whatever jobs Meltano knows that extract something, so
a job added to any orchestrate/*.meltano.yml (ga4, shopify, …) is picked up with no code change.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Logs, locks and reports. output/ is git-ignored; tests point this elsewhere.
OUTPUT_DIR = Path(os.environ.get("TRIBUTARY_OUTPUT_DIR", PROJECT_ROOT / "output"))
LOCK_DIR = OUTPUT_DIR / "locks"
LOG_DIR = OUTPUT_DIR / "logs"


def meltano_executable() -> str:
    """The project venv's meltano (the one beside this interpreter), else the one on PATH."""
    for candidate in (Path(sys.executable).parent / "meltano", PROJECT_ROOT / ".venv" / "bin" / "meltano"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("meltano")
    if not found:
        sys.exit("meltano is not installed: run `make install` first")
    return found


def environment() -> str:
    """The Meltano environment in force: MELTANO_ENVIRONMENT, else meltano.yml's default."""
    if os.environ.get("MELTANO_ENVIRONMENT"):
        return os.environ["MELTANO_ENVIRONMENT"]
    found = re.search(r"^default_environment:\s*(\S+)", (PROJECT_ROOT / "meltano.yml").read_text(), re.M)
    return found.group(1) if found else "dev"


def private_files() -> None:
    """Every file this process and its children write (logs, reports, Meltano's temporary plugin
    configs holding credentials) readable by its owner only. Each entry point calls it first. The
    folders that hold such files are closed too, for the files written before (or by a plain
    `meltano run`, under another umask)."""
    os.umask(0o077)
    for folder in (OUTPUT_DIR, meltano_run_dir()):
        try:
            if folder.is_dir():
                folder.chmod(0o700)
        except OSError:
            continue  # not ours to change: the files in it keep their own modes


def meltano_env() -> dict[str, str]:
    return {**os.environ, "MELTANO_ENVIRONMENT": environment()}


def meltano_json(*args: str) -> dict:
    completed = subprocess.run([meltano_executable(), *args], cwd=PROJECT_ROOT, env=meltano_env(),
                               capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"meltano {' '.join(args)} failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout)


def schedules() -> list[dict]:
    """Meltano's job schedules: name, cron_interval and the job they run."""
    return meltano_json("schedule", "list", "--format=json")["schedules"]["job"]


# -- which schedules fire in an environment ------------------------------------------------------
# Meltano's schedules belong to the project, not to an environment. Each environment in
# meltano.yml says which of them fire automatically there (cron.py's crontab, Dagster's
# schedules): `annotations: {tributary: {schedules: all | none | [name, …]}}`. An annotation,
# not an `env:` variable, because Meltano would then override the variable below with it.
# TRIBUTARY_SCHEDULES (all, none or names separated by commas) overrides it on one machine.
SCHEDULES_VARIABLE = "TRIBUTARY_SCHEDULES"


def parse_schedule_switch(value, known: list[str], where: str) -> set[str]:
    """The names of the schedules that fire: `all` (or nothing said), `none`, or a list of names."""
    if value is None or value == "all":
        return set(known)
    if value == "none":
        return set()
    names = [name.strip() for name in value.split(",")] if isinstance(value, str) else list(value or [])
    names = [name for name in names if name]
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"{where} names {', '.join(repr(name) for name in unknown)}, which Meltano does not know as a "
                 f"schedule: use all, none or names from `meltano schedule list` ({', '.join(known)})")
    return set(names)


def schedule_switch_setting(environment_name: str) -> tuple[object, str]:
    """The raw switch for an environment and where it was read (for messages)."""
    if os.environ.get(SCHEDULES_VARIABLE):
        return os.environ[SCHEDULES_VARIABLE], SCHEDULES_VARIABLE
    import yaml  # both venvs that run this have PyYAML (Meltano's and Dagster's dependency)

    config = yaml.safe_load((PROJECT_ROOT / "meltano.yml").read_text())
    for declared in config.get("environments") or []:
        if declared.get("name") == environment_name:
            annotation = ((declared.get("annotations") or {}).get("tributary") or {}).get("schedules")
            return annotation, f"meltano.yml, environment {environment_name}: annotations.tributary.schedules"
    return None, f"meltano.yml, environment {environment_name}: no switch, every schedule fires"


def schedules_that_fire(known: list[str], environment_name: str | None = None) -> tuple[set[str], str]:
    """Which of the known schedule names fire automatically in the environment, and who said so."""
    value, where = schedule_switch_setting(environment_name or environment())
    return parse_schedule_switch(value, known, where), where


def jobs() -> dict[str, list[str]]:
    """Every Meltano job, in the order the project defines them, with its tasks as block strings."""
    listed = meltano_json("job", "list", "--format=json")["jobs"]
    return {job["job_name"]: [" ".join(t) if isinstance(t, list) else t for t in job["tasks"]] for job in listed}


def extracts(tasks: list[str]) -> bool:
    """A source job has an extract-load block; Singer names every extractor tap-*."""
    return any(word.startswith("tap-") for task in tasks for word in task.split())


def source_jobs() -> list[str]:
    return [name for name, tasks in jobs().items() if extracts(tasks)]


def instance_job(name: str, tasks: dict[str, list[str]]) -> list[str] | None:
    """The blocks of `<job>--<instance>`: another business's run of a source job (README, "Several
    businesses in one warehouse"), the job's blocks with its extractor tap-x replaced by that
    business's, tap-x--<instance> (an inherited extractor). None when `name` is not one."""
    job, separator, instance = name.partition("--")
    if not separator or job not in tasks or not extracts(tasks[job]) or not re.fullmatch(r"[a-z][a-z0-9_]*", instance):
        return None
    return [" ".join(f"{word}--{instance}" if word.startswith("tap-") else word for word in block.split())
            for block in tasks[job]]


class JobBusy(RuntimeError):
    """Another run of the same job holds its lock."""


def inside(folder: Path, name: str, suffix: str = "") -> Path:
    """folder/<name><suffix>, refused unless it stays a file right inside `folder`: job and
    schedule names reach these paths from outside (a Dagster run tag, a command line), and a name
    like `../../x` must not write a lock or a log elsewhere."""
    path = folder / f"{name}{suffix}"
    if not name or "/" in name or "\\" in name or name in (".", "..") or path.resolve().parent != folder.resolve():
        raise ValueError(f"{name!r} is not a job or schedule name (it would leave {folder})")
    return path


def job_lock(job: str, *, wait: bool = False, say=print):
    """One run per job at a time, held for the whole run; a second start is refused (JobBusy),
    naming the holder, or waits for it.

    Meltano itself only refuses a second extract-load whose state id has a fresh RUNNING row in
    its system database, checked then inserted (racy), and never guards the dbt steps; this lock
    makes one run per job certain. Where the lock lives follows the system database: a PostgreSQL
    one is shared by every machine running the project (their state is one), so the lock is a
    PostgreSQL advisory lock there and holds across machines; with the default SQLite file (one
    machine) it is flock(2) on output/locks/<job>.lock, so `flock -n` agrees with it. Either is
    dropped when its process dies (the kernel closes the file or the connection): no stale locks.
    """
    uri = system_database_uri()
    if uri.startswith("postgresql"):
        return _advisory_job_lock(job, uri, wait, say)
    return _file_job_lock(job, wait, say)


@contextmanager
def _file_job_lock(job: str, wait: bool, say):
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    path = inside(LOCK_DIR, job, ".lock")
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            if not wait:
                raise JobBusy(f"job '{job}' is already running ({holder}); not starting a second run "
                              f"(lock: {path})") from None
            say(f"job '{job}' is already running ({holder}); waiting for it to finish")
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            say(f"job '{job}' lock acquired after {time.monotonic() - started:.0f} s")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        yield path
    finally:
        handle.close()


# The advisory lock's key: two int4 keys (their own key space in pg_locks, apart from the dbt
# wrapper's one-bigint build lock), this project's name and the job's in its environment (dev and
# prod may share one system database, as their state ids do).
# Its connection sits idle for the whole run: the server's TCP keepalives drop a lost machine's
# lock within about a minute, and no idle timeout may end the session (a direct connection, not a
# transaction-pooling proxy, which would lose a session lock).
ADVISORY_LOCK_SESSION = {"options": "-c idle_session_timeout=0 -c tcp_keepalives_idle=30 "
                                    "-c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"}
ADVISORY_JOB_KEY = "select hashtext('tributary job'), hashtext(:environment || ':' || :job)"


@contextmanager
def _advisory_job_lock(job: str, uri: str, wait: bool, say):
    from sqlalchemy import create_engine, text  # Meltano's own dependency, with the URI's driver
    from sqlalchemy.pool import NullPool

    inside(LOCK_DIR, job)  # the same names as the file lock accepts
    # What another start shows of this run (pg_stat_activity), 63 characters at most.
    holder_name = f"{job}: pid {os.getpid()} on {socket.gethostname()}"[:63]
    engine = create_engine(uri, poolclass=NullPool,
                           connect_args={"application_name": holder_name, **ADVISORY_LOCK_SESSION})
    where = f"PostgreSQL advisory lock in Meltano's system database {engine.url.database}"
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            key = dict(zip(("one", "two"), conn.execute(text(ADVISORY_JOB_KEY),
                                                        {"environment": environment(), "job": job}).one()))
            if not conn.execute(text("select pg_try_advisory_lock(:one, :two)"), key).scalar():
                holder = conn.execute(text(
                    "select a.application_name || ', since ' || to_char(a.backend_start at time zone 'UTC', "
                    "'YYYY-MM-DD HH24:MI:SS') || ' UTC' from pg_locks as l join pg_stat_activity as a using (pid) "
                    "where l.locktype = 'advisory' and l.granted and l.objsubid = 2 "
                    "and l.database = (select oid from pg_database where datname = current_database()) "
                    "and l.classid = (:one)::int4::oid and l.objid = (:two)::int4::oid"), key).scalar()
                holder = holder or "another process"
                if not wait:
                    raise JobBusy(f"job '{job}' is already running ({holder}); not starting a second run (lock: {where})")
                say(f"job '{job}' is already running ({holder}); waiting for it to finish")
                started = time.monotonic()
                conn.execute(text("select pg_advisory_lock(:one, :two)"), key)
                say(f"job '{job}' lock acquired after {time.monotonic() - started:.0f} s")
            yield where
    finally:
        engine.dispose()


# -- runs a kill -9 left RUNNING in Meltano's system database -----------------------------------
# Meltano records each extract-load as a `runs` row, RUNNING with a heartbeat it writes every
# second, and refuses to start the same state id while that row's heartbeat is under 5 minutes
# old. A run killed with SIGKILL never closes its row, so for 5 minutes every rerun is refused.
# Our entry points close such rows first: a run whose heartbeat stopped is dead when no Meltano
# process that could own it is alive, or whatever the processes when it has been silent a minute.
HEARTBEAT_SILENT_S = 3          # a live run beats every second
HEARTBEAT_DEAD_S = 60           # silent this long, it is dead even if we cannot see its machine
# Under the job's lock a RUNNING row that still beats is a meltano whose run's process just died:
# its parent-death SIGTERM (dies_with_its_parent) is stopping its plugins and it records its run
# failed within seconds. A retry that starts meanwhile (Dagster's can, a second after the kill)
# waits for that instead of being refused by Meltano as "already running". The bound is past
# HEARTBEAT_DEAD_S, so a row that falls silent is marked failed within it.
STOPPING_RUN_WAIT_S = HEARTBEAT_DEAD_S + 15


def system_database_uri() -> str:
    """Meltano's system database: MELTANO_DATABASE_URI (environment, then .env), else its default."""
    if os.environ.get("MELTANO_DATABASE_URI"):
        return os.environ["MELTANO_DATABASE_URI"]
    dotenv = PROJECT_ROOT / ".env"
    if dotenv.exists():
        for line in dotenv.read_text().splitlines():
            name, _, value = line.strip().removeprefix("export ").partition("=")
            if name.strip() == "MELTANO_DATABASE_URI" and value.strip():
                return value.strip().strip("'\"")
    return f"sqlite:///{PROJECT_ROOT / '.meltano' / 'meltano.db'}"


def state_ids(tasks: list[str]) -> list[str]:
    """The state ids (= runs.job_name) of a job's extract-loads: `<env>:<tap>-to-<target>`."""
    ids = []
    for task in tasks:
        words = task.split()
        for i, word in enumerate(words):
            if word.startswith("tap-"):
                target = next((w for w in words[i + 1:] if w.startswith("target-")), None)
                if target:
                    ids.append(f"{environment()}:{word}-to-{target}")
    return ids


def _live_meltano_processes(database_uri: str) -> list[int]:
    """Meltano processes on this machine working in this project on this system database."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            # `meltano …`, `python …/bin/meltano …` or `python -m meltano …`
            if not any(Path(arg.decode(errors="replace")).name == "meltano" for arg in argv[:3]):
                continue
            if Path(os.readlink(proc / "cwd")) != PROJECT_ROOT:
                continue
            environ = dict(item.split(b"=", 1) for item in (proc / "environ").read_bytes().split(b"\0") if b"=" in item)
        except OSError:
            continue  # gone meanwhile, or not ours to read
        theirs = environ.get(b"MELTANO_DATABASE_URI", b"").decode()
        if not theirs or theirs == database_uri:  # unset: counted too (it may read ours from .env)
            found.append(int(proc.name))
    return found


def _utc(value) -> datetime:
    """A timestamp as Meltano stores it (naive UTC; a string in SQLite) made aware."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def fail_killed_runs(ids: list[str], *, say=print) -> list[str]:
    """Mark failed each RUNNING row of these state ids whose process is gone; one line each."""
    if not ids:
        return []
    from sqlalchemy import bindparam, create_engine, text  # Meltano's own dependency, in the project venv

    uri = system_database_uri()
    engine = create_engine(uri)
    closed = []
    try:
        with engine.begin() as conn:
            if not conn.dialect.has_table(conn, "runs"):
                return []  # a new system database: nothing ever ran
            rows = conn.execute(text("select id, job_name, started_at, last_heartbeat_at, payload from runs "
                                     "where state = 'RUNNING' and job_name in :ids")
                                .bindparams(bindparam("ids", expanding=True)), {"ids": ids}).fetchall()
            if not rows:
                return []
            now = datetime.now(timezone.utc)
            # Only a local SQLite file proves every owner would be a process on this machine.
            nobody_alive = uri.startswith("sqlite") and not _live_meltano_processes(uri)
            for run_id, state_id, started_at, heartbeat, payload in rows:
                last_sign = _utc(heartbeat or started_at)
                silent = (now - last_sign).total_seconds()
                if not (silent > HEARTBEAT_DEAD_S or (nobody_alive and silent > HEARTBEAT_SILENT_S)):
                    continue
                line = (f"a previous run of {state_id} was killed at {last_sign:%H:%M} UTC "
                        f"(no heartbeat since); marked failed so this run can start")
                details = json.loads(payload) if isinstance(payload, str) and payload else dict(payload or {})
                details["error"] = f"Killed: no heartbeat since {last_sign:%Y-%m-%d %H:%M:%S} UTC (marked failed by orchestrate/)"
                conn.execute(text("update runs set state = 'FAIL', ended_at = :ended, payload = :payload "
                                  "where id = :id and state = 'RUNNING'"),
                             {"ended": now.replace(tzinfo=None), "payload": json.dumps(details), "id": run_id})
                say(line)
                closed.append(state_id)
    finally:
        engine.dispose()
    return closed


def running_state_ids(ids: list[str]) -> list[str]:
    """Those of these state ids that have a RUNNING row in Meltano's system database."""
    if not ids:
        return []
    from sqlalchemy import bindparam, create_engine, text  # Meltano's own dependency, in the project venv

    engine = create_engine(system_database_uri())
    try:
        with engine.connect() as conn:
            if not conn.dialect.has_table(conn, "runs"):
                return []
            return sorted(state_id for (state_id,) in conn.execute(
                text("select distinct job_name from runs where state = 'RUNNING' and job_name in :ids")
                .bindparams(bindparam("ids", expanding=True)), {"ids": ids}))
    finally:
        engine.dispose()


def wait_for_stopping_runs(ids: list[str], *, say=print, timeout: float = STOPPING_RUN_WAIT_S) -> list[str]:
    """Close the killed runs of these state ids, and wait (at most `timeout`) while one still beats:
    see STOPPING_RUN_WAIT_S. Returns the state ids still RUNNING at the end (Meltano refuses them)."""
    deadline = time.monotonic() + timeout
    waiting_said = False
    while True:
        fail_killed_runs(ids, say=say)
        running = running_state_ids(ids)
        if not running:
            if waiting_said:
                say(f"the previous run stopped after {timeout - (deadline - time.monotonic()):.0f} s; starting")
            return []
        if time.monotonic() >= deadline:
            say(f"{', '.join(running)} still running after {timeout:.0f} s, started outside this job's lock "
                f"(a `meltano run` by hand?); Meltano will refuse to start it twice")
            return running
        if not waiting_said:
            say(f"a previous run of {', '.join(running)} is still stopping (its process died); "
                f"waiting for it, at most {timeout:.0f} s")
            waiting_said = True
        time.sleep(1)


# Meltano writes each plugin's whole config, credentials included, to .meltano/run/<plugin>/
# tap|target|mapper.<uuid>.config.json, passes its path on the plugin's command line, and deletes
# it when the run ends; a run killed with SIGKILL leaves it behind. A file no live process names on
# its command line belongs to no run (the grace covers a plugin being started).
PLUGIN_CONFIG_GRACE_SECONDS = 30


def meltano_run_dir() -> Path:
    return Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or PROJECT_ROOT / ".meltano") / "run"


def live_command_lines() -> str:
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().decode(errors="replace"))
        except OSError:
            continue  # the process ended meanwhile
    return "\n".join(lines)


def remove_left_plugin_configs(say=print) -> None:
    """Delete the plugin config files killed runs left, and keep Meltano's run folder private."""
    run_dir = meltano_run_dir()
    if not run_dir.is_dir():
        return
    try:
        run_dir.chmod(0o700)  # whatever the umask Meltano ran with, no other user reaches these files
    except OSError as error:
        say(f"could not make {run_dir} private ({error}); check who owns it")

    def old_enough(path: Path) -> bool:
        try:
            return time.time() - path.stat().st_mtime > PLUGIN_CONFIG_GRACE_SECONDS
        except OSError:
            return False  # its run ended meanwhile and Meltano deleted it
    left = [path for path in run_dir.glob("*/*.config.json") if old_enough(path)]
    if not left:
        return
    in_use = live_command_lines()
    for path in left:
        if path.name not in in_use:
            path.unlink(missing_ok=True)
            say(f"removed {path.relative_to(run_dir.parent)}, a killed run's plugin config (it holds credentials)")


def close_killed_runs(job: str, tasks: list[str] | None = None, *, say=print) -> None:
    """A run of this job killed with SIGKILL left its extract-loads RUNNING in Meltano's system
    database, and Meltano would refuse the same extract-load for 5 minutes: mark them failed; one
    still stopping is waited for (wait_for_stopping_runs). Safe under the job's lock: no other run
    of this job started through our entry points is alive.
    Killed runs' plugin config files go too (remove_left_plugin_configs)."""
    remove_left_plugin_configs(say=say)
    try:
        if tasks is None:
            tasks = jobs().get(job, [])
        wait_for_stopping_runs(state_ids(tasks), say=say)
    except Exception as error:  # the check is a courtesy: Meltano's own check still stands
        say(f"could not check Meltano's system database for killed runs ({str(error).splitlines()[0]}); going on")


def dies_with_its_parent():
    """The preexec_fn for a job's `meltano` under the job's lock: SIGTERM to it when the process
    holding the lock dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG). The lock goes with its
    holder (an flock's file, an advisory lock's session), so a meltano left running would overlap
    the next run of its job, which the lock lets in. Meltano stops its plugins on SIGTERM and
    records its run as failed. None (nothing set) elsewhere than Linux."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    # Looked up here, in the parent: the child of a process with threads (Dagster's) must not load
    # libraries between fork and exec.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    parent = os.getpid()

    def in_the_child() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl: no signal will come
            os._exit(1)
    return in_the_child


def job_run_env(job: str) -> dict[str, str]:
    """The environment for one job's Meltano run.

    dbt keeps its artifacts (manifest, partial parse, run_results) in one target folder; two
    jobs running dbt at once (@daily and @hourly both fire at midnight) would overwrite each
    other's, so each job gets its own under transform/target/jobs/.
    Dagster's own instance database (its URL holds a password) is no business of the pipeline's:
    a run started by Dagster does not pass it on to meltano and its plugins.
    """
    env = {name: value for name, value in meltano_env().items() if name not in DAGSTER_ONLY_VARIABLES}
    env.setdefault("DBT_TARGET_PATH", f"target/jobs/{job}")
    return env


DAGSTER_ONLY_VARIABLES = {"DAGSTER_POSTGRES_URL"}


def timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
