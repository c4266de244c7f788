"""The test stack: a warehouse and a sandbox of the tests' own, and helpers to drive Meltano.

Tests never touch the demo's warehouse, sandbox or Meltano state: they use their own ports,
folders (under .test-run/) and Meltano system database, and override the dev environment's
settings through Meltano's own setting variables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from tributary_sandbox import simulators

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("TEST_RUN_DIR", PROJECT_ROOT / ".test-run"))  # separate dirs let two suites run at once
BIN = Path(sys.executable).parent

WAREHOUSE_PORT = int(os.environ.get("TEST_WAREHOUSE_PORT", "55442"))
SANDBOX_PORT = int(os.environ.get("TEST_SANDBOX_PORT", "8785"))
SANDBOX_PROXY_PORT = int(os.environ.get("TEST_SANDBOX_PROXY_PORT", "8786"))
WAREHOUSE = dict(host="127.0.0.1", port=WAREHOUSE_PORT, user="tributary", password="tributary-dev", dbname="warehouse")


def stack_env() -> dict[str, str]:
    env = {**os.environ}
    env.update({
        # the warehouse script and the sandbox CLI
        "WAREHOUSE_DIR": str(RUN_DIR / "warehouse"),
        "WAREHOUSE_PORT": str(WAREHOUSE_PORT),
        "SANDBOX_STATE_DIR": str(RUN_DIR / "sandbox"),
        "SANDBOX_PORT": str(SANDBOX_PORT),
        "SANDBOX_PROXY_PORT": str(SANDBOX_PROXY_PORT),
        # Meltano's own state and logs
        "MELTANO_DATABASE_URI": f"sqlite:///{RUN_DIR / 'meltano.db'}",
        "XDG_STATE_HOME": str(RUN_DIR / "xdg-state"),
        "MELTANO_ENVIRONMENT": "dev",
        # the dev environment's settings, pointed at the test stack
        "TARGET_POSTGRES_PORT": str(WAREHOUSE_PORT),
        "DBT_PORT": str(WAREHOUSE_PORT),
        "TAP_QUICKBOOKS_HTTPS_PROXY": f"http://127.0.0.1:{SANDBOX_PROXY_PORT}",
        "TAP_QUICKBOOKS_CA_BUNDLE": str(RUN_DIR / "sandbox" / "ca.pem"),
        "TAP_QUICKBOOKS_TOKEN_STORE_PATH": str(RUN_DIR / "quickbooks-refresh-token.json"),
        "TAP_ATTIO_API_URL": f"http://127.0.0.1:{SANDBOX_PORT}/attio/v2",
        "TAP_GA4_API_URL": f"http://127.0.0.1:{SANDBOX_PORT}/ga4",
        "TAP_GA4_SERVICE_ACCOUNT_KEY": str(RUN_DIR / "sandbox" / "ga4-service-account.json"),
        "TAP_SHOPIFY_API_URL": f"http://127.0.0.1:{SANDBOX_PORT}/shopify",
    })
    # Sources added from the template (extract/new_source.py): the test sandbox serves each one.
    for simulator in simulators.discover():
        env[f"TAP_{simulator.NAME.upper()}_API_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}{simulator.PREFIX}"
    return env


@dataclass
class MeltanoResult:
    returncode: int
    output: str
    args: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def records_loaded(self) -> dict[str, int]:
        """Records the loader counted per stream (its record_count metrics)."""
        counts: dict[str, int] = {}
        for line in self.output.splitlines():
            if "target-postgres" in line and '"record_count"' in line:
                metric = json.loads(line[line.index("{"):])
                stream = metric["tags"]["stream"]
                counts[stream] = counts.get(stream, 0) + metric["value"]
        return counts


class Stack:
    """Handles on the running test stack."""

    def __init__(self) -> None:
        self.env = stack_env()
        self.outputs: list[str] = []  # every Meltano output, for the no-secrets-in-logs test
        self.start_scale = 1.0  # the sandbox's world size when the stack started (set by the fixture)

    # -- Meltano ---------------------------------------------------------------------------
    def meltano(self, *args: str, env: dict[str, str] | None = None, timeout: int = 600) -> MeltanoResult:
        completed = subprocess.run(
            [str(BIN / "meltano"), *args], cwd=PROJECT_ROOT, env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=timeout,
        )
        self.outputs.append(completed.stdout)
        return MeltanoResult(completed.returncode, completed.stdout, list(args))

    def state(self, state_id: str = "dev:tap-quickbooks-to-target-postgres") -> dict:
        result = self.meltano("state", "get", state_id)
        if not result.ok:
            return {}
        last_line = [line for line in result.output.splitlines() if line.startswith("{")]
        return json.loads(last_line[-1]) if last_line else {}

    def env_path(self, name: str) -> Path:
        return Path(self.env[name])

    # -- the warehouse ---------------------------------------------------------------------
    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(**WAREHOUSE) as conn:
            return conn.execute(query, params).fetchall()

    def scalar(self, query: str, params: tuple = ()):
        return self.sql(query, params)[0][0]

    # -- the sandbox -----------------------------------------------------------------------
    def sandbox(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{SANDBOX_PORT}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def reset(self, **world) -> None:
        """A fresh sandbox world, an empty warehouse and no Meltano state or stored token. The world
        is the stack's own size unless `world` says otherwise (a module's small world never leaks
        into the next module's reset)."""
        self.sandbox("POST", "/_sandbox/reset", {"scale": self.start_scale, **world})
        with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
            for (schema,) in conn.execute(
                "select nspname from pg_namespace where nspname like 'raw\\_%' or nspname in ('staging','intermediate','marts','analytics')"
            ).fetchall():
                conn.execute(f'drop schema "{schema}" cascade')
        # The system database's write-ahead log goes too: a new meltano.db next to a killed run's
        # old -wal/-shm files is what SQLite calls a "disk I/O error".
        for name in ("meltano.db", "meltano.db-wal", "meltano.db-shm", "meltano.db-journal"):
            (RUN_DIR / name).unlink(missing_ok=True)
        (RUN_DIR / "quickbooks-refresh-token.json").unlink(missing_ok=True)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: a case that takes minutes (deselect with -m 'not slow')")


def _run(cmd: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, text=True, capture_output=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{completed.stdout}\n{completed.stderr}")


@pytest.fixture(scope="session")
def stack():
    if RUN_DIR.exists():
        shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    env = stack_env()
    _run([str(BIN / "python"), "load/warehouse.py", "start"], env)
    _run([str(BIN / "python"), "-m", "tributary_sandbox", "start"], env)
    handle = Stack()
    handle.start_scale = handle.sandbox("GET", "/_sandbox/health")["scale"]
    handle.meltano("state", "list")  # creates the system database once, not inside a timed test
    yield handle
    subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", "stop"], cwd=PROJECT_ROOT, env=env)
    subprocess.run([str(BIN / "python"), "load/warehouse.py", "stop"], cwd=PROJECT_ROOT, env=env)
