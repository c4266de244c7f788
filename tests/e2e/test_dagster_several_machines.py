"""Dagster across machines (issue #18), as orchestrate/dagster/postgres/ sets it up: its instance
in PostgreSQL, Meltano's system database there too (so the job's lock is an advisory lock), and
the three processes apart: the code server (which starts the runs) on the pipeline's host, the
daemon and the webserver each in a network namespace of its own, reaching the others only over a
test network (a bridge): the code server's gRPC port and PostgreSQL's. Runs are launched through
the webserver's GraphQL API, as the UI does. Without root or `ip netns` the three run side by side
on loopback, the same test otherwise.

A run whose worker process is killed is failed by the code server and run again by the daemon,
its meltano gone with it (nothing overlaps the retry), and the warehouse ends whole; runs of one
job queue behind each other while another job runs beside them; a run lost with its code server
is failed past its maximum runtime, and its job runs again."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
import yaml

from this_worker import PROJECT_ROOT, RUN_DIR, SANDBOX_PORT, WAREHOUSE, WAREHOUSE_PORT, WORKER_INDEX

sys.path.insert(0, str(PROJECT_ROOT / "load"))
import roles  # noqa: E402

pytestmark = pytest.mark.slow  # three Dagster processes and seven job runs: 4 to 5 minutes

HOME = RUN_DIR / "dagster-several-machines"
CODE_SERVER_PORT, WEBSERVER_PORT = SANDBOX_PORT + 5, SANDBOX_PORT + 6
SUBNET = f"10.203.{WORKER_INDEX}"  # the test network: .1 this host (code server, PostgreSQL), .2 daemon, .3 webserver
NAMESPACES = {"daemon": f"tributary-daemon-{WORKER_INDEX}", "webserver": f"tributary-web-{WORKER_INDEX}"}
BRIDGE = f"trib-br{WORKER_INDEX}"
ORCHESTRATOR = f"{roles.MELTANO}:{roles.DEV_PASSWORDS[roles.MELTANO]}"


# -- the test network ----------------------------------------------------------------------------
def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def remove_network() -> None:
    for namespace in NAMESPACES.values():
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def make_network() -> bool:
    """A bridge with this host at .1 and one namespace per other process, or False where the
    machine does not allow it (not root, no `ip`)."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        return False
    remove_network()  # what a killed earlier run left
    try:
        ip("link", "add", BRIDGE, "type", "bridge")
        ip("addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
        ip("link", "set", BRIDGE, "up")
        for host, (name, namespace) in enumerate(NAMESPACES.items(), start=2):
            outside, inside = f"trib{WORKER_INDEX}{name[:3]}o", f"trib{WORKER_INDEX}{name[:3]}i"
            ip("netns", "add", namespace)
            ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", namespace)
            ip("link", "set", outside, "master", BRIDGE, "up")
            ip("-n", namespace, "addr", "add", f"{SUBNET}.{host}/24", "dev", inside)
            ip("-n", namespace, "link", "set", inside, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as error:
        print(f"no network namespaces here ({error.stderr.strip()}): the processes share loopback")
        remove_network()
        return False
    return True


class Relay:
    """PostgreSQL's port on the test network: the test warehouse listens on loopback only, so
    this host forwards what reaches {SUBNET}.1:port to it, as a database host's address would."""

    def __init__(self, address: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(address)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()  # that connection fails, the next ones are still forwarded
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.server.close()


# -- the three processes -------------------------------------------------------------------------
class Machines:
    def __init__(self, stack, namespaced: bool) -> None:
        self.stack = stack
        self.namespaced = namespaced
        self.this_host = f"{SUBNET}.1" if namespaced else "127.0.0.1"
        self.webserver_host = f"{SUBNET}.3" if namespaced else "127.0.0.1"
        self.processes: dict[str, subprocess.Popen] = {}

    def env(self, database_host: str) -> dict[str, str]:
        """What every machine's .env says: the same instance, system database and code server."""
        return {
            **self.stack.env, "DAGSTER_HOME": str(HOME), "TRIBUTARY_OUTPUT_DIR": str(HOME / "output"),
            "DAGSTER_POSTGRES_URL": f"postgresql://{ORCHESTRATOR}@{database_host}:{WAREHOUSE_PORT}/{roles.DAGSTER_DATABASE}",
            "MELTANO_DATABASE_URI": f"postgresql+psycopg://{ORCHESTRATOR}@{database_host}:{WAREHOUSE_PORT}/{roles.MELTANO_DATABASE}",
            "DAGSTER_CODE_SERVER_HOST": self.this_host, "DAGSTER_CODE_SERVER_PORT": str(CODE_SERVER_PORT),
        }

    def start(self, name: str, *args: str) -> None:
        namespace = ["ip", "netns", "exec", NAMESPACES[name]] if self.namespaced and name in NAMESPACES else []
        database_host = self.this_host if namespace else "127.0.0.1"
        self.processes[name] = subprocess.Popen(
            [*namespace, str(PROJECT_ROOT / ".venv" / "bin" / "meltano"), "invoke", f"dagster:{name}", *args],
            cwd=PROJECT_ROOT, env=self.env(database_host), stdin=subprocess.DEVNULL,
            stdout=open(HOME / f"{name}.log", "a"), stderr=subprocess.STDOUT, start_new_session=True)

    def start_code_server(self) -> None:
        self.start("code-server", "-h", self.this_host, "-p", str(CODE_SERVER_PORT))

    def stop(self) -> None:
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in HOME.glob("*.log"))

    # -- the webserver's API, as the UI uses it ---------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(f"http://{self.webserver_host}:{WEBSERVER_PORT}/graphql",
                                         data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)["data"]

    def launch(self, job: str, tags: dict[str, str] | None = None) -> str:
        query = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
            __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }"""
        params = {"selector": {"repositoryLocationName": "tributary", "repositoryName": "__repository__",
                               "jobName": job}, "runConfigData": {},
                  "executionMetadata": {"tags": [{"key": key, "value": value} for key, value in (tags or {}).items()]}}
        deadline = time.monotonic() + 120  # the webserver and the code server still starting
        while True:
            try:
                launched = self.graphql(query, {"params": params})["launchRun"]
                if launched["__typename"] == "LaunchRunSuccess":
                    return launched["run"]["runId"]
                problem = launched
            except OSError as error:
                problem = error
            assert time.monotonic() < deadline, f"{problem}\n{self.logs()}"
            time.sleep(2)


def dagster_runs() -> dict[str, dict]:
    """Every run in Dagster's instance, by id: job, status, start and end, tags."""
    with psycopg.connect(**{**WAREHOUSE, "dbname": roles.DAGSTER_DATABASE}) as conn:
        rows = conn.execute("select run_id, pipeline_name, status, start_time, end_time, run_body "
                            "from runs order by create_timestamp").fetchall()
    return {run_id: {"job": job, "status": status, "start": start, "end": end, "tags": json.loads(body)["tags"]}
            for run_id, job, status, start, end, body in rows}


def wait_for(condition, what: str, machines: Machines, timeout: float = 420):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s\n{machines.logs()}"
        time.sleep(1)
    return found


def meltano_run_of(job: str) -> tuple[int, int] | None:
    """(pid, parent pid) of a running `meltano run JOB` that has started its plugins, started by this
    module's code server (its DAGSTER_HOME): never another test's or another checkout's run."""
    ours = f"DAGSTER_HOME={HOME}".encode()
    for proc in Path("/proc").iterdir():
        with suppress(OSError, IndexError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")[:-1]
            if argv[-2:] == [b"run", job.encode()] and any(arg.endswith(b"/meltano") for arg in argv[:2]) \
                    and ours in (proc / "environ").read_bytes().split(b"\0") \
                    and (proc / "task" / proc.name / "children").read_text().split():
                return int(proc.name), int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return None


@pytest.fixture(scope="module")
def machines(stack):
    stack.reset(scale=0.1)
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
        for database in (roles.MELTANO_DATABASE, roles.DAGSTER_DATABASE):
            conn.execute(f"drop database if exists {database} with (force)")
            roles.orchestration_database(conn, database)
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    for name in ("dagster.yaml", "workspace.yaml"):  # what each machine's DAGSTER_HOME holds
        shutil.copy(PROJECT_ROOT / "orchestrate" / "dagster" / "postgres" / name, HOME / name)
    handle_env = {**stack.env, "MELTANO_DATABASE_URI": Machines(stack, False).env("127.0.0.1")["MELTANO_DATABASE_URI"]}
    # Meltano creates its system database's tables on its first command: once, as the README says,
    # before three processes start at once (each would create them, and all but one fail)
    assert stack.meltano("state", "list", env=handle_env).ok
    namespaced = make_network()
    relay = Relay((f"{SUBNET}.1", WAREHOUSE_PORT), ("127.0.0.1", WAREHOUSE_PORT)) if namespaced else None
    handle = Machines(stack, namespaced)
    handle.start_code_server()
    handle.start("daemon")
    handle.start("webserver", "-h", handle.webserver_host, "-p", str(WEBSERVER_PORT))
    yield handle
    handle.stop()
    if relay:
        relay.close()
        remove_network()
    stack.reset()


def test_a_run_whose_worker_is_killed_is_run_again_and_the_warehouse_ends_whole(stack, machines):
    killed_run = machines.launch("attio")
    meltano, worker = wait_for(lambda: meltano_run_of("attio"), "meltano run attio started its plugins", machines)
    os.kill(worker, signal.SIGKILL)  # the run's worker process: it holds the job's lock and runs meltano
    # meltano goes with it (its plugins stopped, its run recorded failed), so nothing overlaps the retry
    wait_for(lambda: not Path(f"/proc/{meltano}").exists() or "Z" in Path(f"/proc/{meltano}/stat").read_text().split()[2],
             "the killed worker's meltano gone", machines, timeout=30)
    gone_at = time.time()

    runs = wait_for(lambda: (runs := dagster_runs()) and any(
        run["tags"].get("dagster/parent_run_id") == killed_run and run["status"] == "SUCCESS" for run in runs.values())
        and runs, "the killed run's retry succeeded", machines)
    assert runs[killed_run]["status"] == "FAILURE"
    assert runs[killed_run]["tags"].get("dagster/will_retry") == "true"
    [retry] = [run for run in runs.values() if run["tags"].get("dagster/parent_run_id") == killed_run]
    assert retry["tags"]["tributary/meltano-job"] == "attio"
    assert retry["start"] > gone_at  # the retry began after the killed run's meltano was gone

    # Meltano's record: the killed extract-load failed (by its own hand on SIGTERM), the retry's succeeded
    with psycopg.connect(**{**WAREHOUSE, "dbname": roles.MELTANO_DATABASE}) as conn:
        meltano_runs = [state for (state,) in conn.execute(
            "select state from runs where job_name = 'dev:tap-attio-to-target-postgres' order by started_at")]
    assert meltano_runs == ["FAIL", "SUCCESS"], meltano_runs
    # and the warehouse holds the workspace whole, once
    truth = stack.sandbox("GET", "/_sandbox/attio/counts")
    for table in ("people", "companies", "deals"):
        assert stack.scalar(f"select count(*) from raw_attio.{table} where _sdc_deleted_at is null") == truth[table]
        assert stack.scalar(f"select count(*) - count(distinct record_id) from raw_attio.{table}") == 0
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") == truth["deals"]


def test_runs_of_one_job_queue_behind_each_other_while_another_job_runs_beside_them(machines):
    first, second, other = machines.launch("attio"), machines.launch("attio"), machines.launch("ga4")
    runs = wait_for(lambda: (runs := dagster_runs()) and all(runs[run]["status"] == "SUCCESS" for run in
                                                              (first, second, other)) and runs,
                    "the three runs succeeded", machines)
    earlier, later = sorted((runs[first], runs[second]), key=lambda run: run["start"])
    assert later["start"] >= earlier["end"], "two runs of attio ran at once"
    ga4 = runs[other]
    assert ga4["start"] < earlier["end"] and ga4["end"] > earlier["start"], "ga4 waited for attio"


def test_a_run_whose_code_server_vanished_is_failed_after_its_maximum_runtime_and_blocks_its_job_no_longer(
        stack, machines):
    """The code server's machine gone mid-run (here its processes SIGKILLed, the code server first):
    nothing is left to report the run, which stays STARTED and would hold every later run of its
    job in the queue. The daemon fails it once past its maximum runtime (dagster.yaml: 6 hours;
    this run's tag: 20 s), and the job runs again once a code server is back."""
    for instance in (HOME / "dagster.yaml", PROJECT_ROOT / "orchestrate" / "dagster" / "dagster.yaml"):
        monitoring = yaml.safe_load(instance.read_text())["run_monitoring"]
        assert monitoring["enabled"] and monitoring["max_runtime_seconds"] == 6 * 3600, instance
    lost_run = machines.launch("attio", tags={"dagster/max_runtime": "20"})
    meltano, worker = wait_for(lambda: meltano_run_of("attio"), "meltano run attio started its plugins", machines)
    code_server = machines.processes["code-server"]
    os.killpg(code_server.pid, signal.SIGKILL)
    code_server.wait(timeout=30)
    with suppress(ProcessLookupError):
        os.kill(worker, signal.SIGKILL)  # the rest of the machine
    wait_for(lambda: not Path(f"/proc/{meltano}").exists() or "Z" in Path(f"/proc/{meltano}/stat").read_text().split()[2],
             "the lost run's meltano gone", machines, timeout=30)
    assert dagster_runs()[lost_run]["status"] == "STARTED"  # nobody left to say otherwise

    wait_for(lambda: dagster_runs()[lost_run]["status"] == "FAILURE", "the lost run failed by the daemon", machines,
             timeout=180)
    with psycopg.connect(**{**WAREHOUSE, "dbname": roles.DAGSTER_DATABASE}) as conn:
        said = conn.execute("select string_agg(event, ' ') from event_logs where run_id = %s", (lost_run,)).fetchone()[0]
    assert "Canceling due to exceeding maximum runtime of 20 seconds" in said, said[-2000:]

    machines.start_code_server()  # the machine back (or another in its place)
    next_run = machines.launch("attio")
    runs = wait_for(lambda: (runs := dagster_runs()) and runs[next_run]["status"] in ("SUCCESS", "FAILURE") and runs,
                    "the job's next run ended", machines)
    assert runs[next_run]["status"] == "SUCCESS", machines.logs()
    truth = stack.sandbox("GET", "/_sandbox/attio/counts")
    for table in ("people", "companies", "deals"):
        assert stack.scalar(f"select count(*) from raw_attio.{table} where _sdc_deleted_at is null") == truth[table]
