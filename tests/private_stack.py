"""A private stack: this project run against a warehouse and a sandbox of its own, on given ports.

The one place that knows how to point the dev environment at such a stack. The test suite's
session stack (tests/conftest.py) and the benchmarks (bench/_stack.py) both use it, so neither
touches the demo's warehouse, sandbox or Meltano state, and two of them can run at once.

The dev environment's settings are overridden through Meltano's own setting variables
(TARGET_POSTGRES_PORT, TAP_ATTIO_API_URL, …): meltano.yml stays as the demo has it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tributary_sandbox import dev_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the project venv's bin: meltano, and the python running this
# Meltano's plugin types: the folders of .meltano/ holding the installed plugins' venvs
PLUGIN_FOLDERS = {"extractors", "loaders", "transformers", "utilities", "mappers", "orchestrators", "files"}


@dataclass(frozen=True)
class PrivateStack:
    run_dir: Path  # the warehouse's data, the sandbox's state, Meltano's system database and logs
    warehouse_port: int
    sandbox_port: int
    sandbox_proxy_port: int  # the TLS proxy the QuickBooks tap reaches the sandbox through

    @property
    def warehouse(self) -> dict:
        """psycopg.connect() keyword arguments for the stack's warehouse."""
        return dict(host="127.0.0.1", port=self.warehouse_port, user="tributary", password="tributary-dev",
                    dbname="warehouse")

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def quickbooks_token_store(self) -> Path:
        return self.run_dir / "quickbooks-refresh-token.json"

    @property
    def meltano_sys_dir(self) -> Path:
        return self.run_dir / "meltano"

    @property
    def sandbox_ca_bundle(self) -> Path:
        return self.run_dir / "sandbox" / "ca.pem"

    def env(self) -> dict[str, str]:
        """This process's environment with every setting pointed at the private stack."""
        # Not the world the developer's shell asks for: the stack's sandbox serves the world its own
        # state folder records (a test resets it with the seed and scale it wants)
        env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX_SEED", "SANDBOX_SCALE", "SANDBOX_SOURCE_SCALES")}
        env.update({
            # the warehouse script and the sandbox CLI
            "WAREHOUSE_DIR": str(self.run_dir / "warehouse"),
            "WAREHOUSE_PORT": str(self.warehouse_port),
            "SANDBOX_STATE_DIR": str(self.run_dir / "sandbox"),
            "SANDBOX_PORT": str(self.sandbox_port),
            "SANDBOX_PROXY_PORT": str(self.sandbox_proxy_port),
            # the dev environment's other businesses (a second shop), served beside the default ones
            "SANDBOX_INSTANCES": dev_settings.instances_setting(),
            # Meltano's own state and logs
            "MELTANO_DATABASE_URI": f"sqlite:///{self.run_dir / 'meltano.db'}",
            # Meltano's run folder (a tap's catalog and state files, one per plugin name: two stacks
            # running the same tap must not share it), with the project's plugin venvs linked in
            "MELTANO_SYS_DIR_ROOT": str(self.meltano_sys_dir),
            "XDG_STATE_HOME": str(self.run_dir / "xdg-state"),
            "MELTANO_ENVIRONMENT": "dev",
            # dbt's artifacts (partial parse, manifest, run results) and log: two stacks running dbt
            # at once must not share transform/target and transform/logs
            "DBT_TARGET_PATH": str(self.run_dir / "dbt" / "target"),
            "DBT_LOG_PATH": str(self.run_dir / "dbt" / "logs"),
            # the dev environment's settings, pointed at this stack
            "TARGET_POSTGRES_PORT": str(self.warehouse_port),
            "DBT_PORT": str(self.warehouse_port),
            "TAP_QUICKBOOKS_CA_BUNDLE": str(self.sandbox_ca_bundle),
            "TAP_QUICKBOOKS_TOKEN_STORE_PATH": str(self.quickbooks_token_store),
            # the second company's own (a parent's path would be shared: the wrapper refuses that)
            "TAP_QUICKBOOKS__SECOND_TOKEN_STORE_PATH": str(self.run_dir / "quickbooks-second-refresh-token.json"),
            "TAP_GA4_SERVICE_ACCOUNT_KEY": str(self.run_dir / "sandbox" / "ga4-service-account.json"),
            "TAP_GA4__SECOND_SERVICE_ACCOUNT_KEY": str(self.run_dir / "sandbox" / "ga4-service-account-second.json"),
            # every tap's API URL and the QuickBooks tap's proxy, sources added from the template included
            **dev_settings.api_urls("127.0.0.1", self.sandbox_port),
            **dev_settings.proxy("127.0.0.1", self.sandbox_proxy_port),
        })
        return env

    # -- starting and stopping --------------------------------------------------------------------
    def start(self, *sandbox_args: str) -> None:
        """Start the warehouse, then the sandbox (`sandbox_args`: e.g. "--scale", "10")."""
        self.link_plugins()
        self._run([str(BIN / "python"), "load/warehouse.py", "start"])
        self._run([str(BIN / "python"), "-m", "tributary_sandbox", "start", *sandbox_args])

    def link_plugins(self) -> None:
        """The stack's Meltano system folder: the project's installed plugins (.meltano/extractors,
        loaders, …) linked in, everything else (run/, logs/) its own."""
        self.meltano_sys_dir.mkdir(parents=True, exist_ok=True)
        for installed in (PROJECT_ROOT / ".meltano").iterdir():
            if installed.name in PLUGIN_FOLDERS and not (self.meltano_sys_dir / installed.name).exists():
                (self.meltano_sys_dir / installed.name).symlink_to(installed)

    def stop(self) -> None:
        """Stop both; either may already be down."""
        env = self.env()
        subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", "stop"], cwd=PROJECT_ROOT, env=env)
        subprocess.run([str(BIN / "python"), "load/warehouse.py", "stop"], cwd=PROJECT_ROOT, env=env)

    def _run(self, cmd: list[str]) -> None:
        completed = subprocess.run(cmd, cwd=PROJECT_ROOT, env=self.env(), text=True, capture_output=True)
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{completed.stdout}\n{completed.stderr}")

    # -- the sandbox's control API (/_sandbox/…) ---------------------------------------------------
    def sandbox(self, method: str, path: str, body: dict | None = None, timeout: float = 60):
        request = urllib.request.Request(
            f"{self.sandbox_url}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
        return json.loads(payload) if payload else None


def copy_tracked_files(destination: Path) -> None:
    """A copy of the project as git tracks it (no venvs, no run folders): what a test or a benchmark
    may change without touching the checkout. Run Meltano in it with `--no-install`, or it would
    point the project's installed plugins at the copy."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    for relative in filter(None, listed.stdout.decode().split("\0")):
        source = PROJECT_ROOT / relative
        if source.is_file():   # a tracked file deleted in the work tree is skipped
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
