"""The test stack: a warehouse and a sandbox of the tests' own, and helpers to drive Meltano.

Tests never touch the demo's warehouse, sandbox or Meltano state: they use their own ports,
folders (under .test-run/) and Meltano system database: a private stack (tests/private_stack.py,
which also says how the dev environment's settings are pointed at it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

# This worker's stack (tests/this_worker.py); test modules import these names from there, never
# from `conftest` (tests/sandbox has a conftest too, and which one `import conftest` finds depends
# on the order pytest collected them in)
from this_worker import (  # noqa: E402,F401
    BIN, PRIVATE_STACK, PROJECT_ROOT, RUN_DIR, SANDBOX_PORT, SANDBOX_PROXY_PORT, WAREHOUSE, WAREHOUSE_PORT, WORKER,
    WORKER_INDEX,
)


def stack_env() -> dict[str, str]:
    return PRIVATE_STACK.env()


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
        return PRIVATE_STACK.sandbox(method, path, body)

    def reset(self, **world) -> None:
        """A fresh sandbox world, an empty warehouse and no Meltano state or stored token. The world
        is the stack's own size unless `world` says otherwise (a module's small world never leaks
        into the next module's reset, nor does its seed or mess)."""
        self.sandbox("POST", "/_sandbox/reset", {"seed": 42, "mess": "none", "scale": self.start_scale, **world})
        with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:
            for (schema,) in conn.execute(
                "select nspname from pg_namespace where nspname like 'raw\\_%' or nspname in ('staging','intermediate','marts','analytics')"
            ).fetchall():
                conn.execute(f'drop schema "{schema}" cascade')
        # The system database's write-ahead log goes too: a new meltano.db next to a killed run's
        # old -wal/-shm files is what SQLite calls a "disk I/O error".
        for name in ("meltano.db", "meltano.db-wal", "meltano.db-shm", "meltano.db-journal"):
            (RUN_DIR / name).unlink(missing_ok=True)
        PRIVATE_STACK.quickbooks_token_store.unlink(missing_ok=True)
        (PRIVATE_STACK.run_dir / "quickbooks-second-refresh-token.json").unlink(missing_ok=True)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: a case that takes minutes (deselect with -m 'not slow')")


# The modules that take longest (pytest --durations, on this project's 2-core machine), longest
# first. `make test` hands whole modules to its workers in collection order: starting the longest
# ones first keeps one long module from running alone at the end.
LONGEST_MODULES = [
    "e2e/test_operations.py", "e2e/test_identity_resolution.py", "e2e/test_hostile_vendor.py",
    "e2e/test_reliability_vendor_faults.py", "e2e/test_reliability_crashes.py", "e2e/test_several_shops.py",
    "e2e/test_hostile_names.py", "e2e/test_shopify_pipeline.py", "e2e/test_several_companies.py",
    "e2e/test_user_commands.py", "e2e/test_several_workspaces.py", "e2e/test_bad_config.py",
    "e2e/test_ga4_pipeline.py", "e2e/test_attio_pipeline.py", "e2e/test_several_properties.py",
    "e2e/test_several_businesses.py",
    "e2e/test_quickbooks_token_rotation.py", "e2e/test_operations_locks.py", "e2e/test_newcomer_walkthrough.py",
]


def pytest_collection_modifyitems(config, items) -> None:
    def rank(item) -> int:
        path = Path(str(item.fspath))
        if not path.is_relative_to(Path(__file__).parent):
            return len(LONGEST_MODULES)  # a test file named from elsewhere runs after the known ones
        module = path.relative_to(Path(__file__).parent).as_posix()
        return LONGEST_MODULES.index(module) if module in LONGEST_MODULES else len(LONGEST_MODULES)
    items.sort(key=rank)  # stable: each module's tests keep their order


@pytest.fixture(scope="session")
def stack():
    if RUN_DIR.exists():
        shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    PRIVATE_STACK.start()
    handle = Stack()
    handle.start_scale = handle.sandbox("GET", "/_sandbox/health")["scale"]
    handle.meltano("state", "list")  # creates the system database once, not inside a timed test
    yield handle
    PRIVATE_STACK.stop()
