"""Adding a source from the template, end to end (extract/ADDING-A-SOURCE.md).

A copy of the project (its tracked files) gets a fifth source from `extract/new_source.py`; then,
in that copy and with nothing edited by hand: `meltano install` of the new extractor, the copy's
sandbox serving the generated simulator, `meltano run <job>` into a warehouse of the copy's own,
and the raw and staging rows compared with the simulator's records. The generator must refuse a
name that exists.

The copy reuses the project's installed loader and dbt venvs (symlinked): only the new tap is
installed. About 35 s on an idle 2-core machine, up to 2 min when its cores are busy (most of it
the `meltano run`s with dbt parsing the whole project in a fresh copy).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import urllib.request
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import MeltanoResult  # (tests/conftest.py: e2e modules are collected before tests/sandbox/)
from private_stack import copy_tracked_files
from this_worker import BIN, PROJECT_ROOT

NAME = "acme"
TAP = f"tap-{NAME}"
MELTANO_FILES = ["meltano.yml", "extract/extractors.meltano.yml", "transform/transformers.meltano.yml",
                 "orchestrate/jobs.meltano.yml", ".env.example"]
# Plugins the new source's job uses besides its tap: their venvs are shared with the project's.
SHARED_PLUGIN_VENVS = [".meltano/loaders/target-postgres/venv", ".meltano/transformers/dbt-postgres/venv"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "extract/new_source.py", *args], cwd=project,
                          capture_output=True, text=True, timeout=120)


def fingerprint(project: Path) -> dict[str, str]:
    """Every file of the copy (outside its run folders) → a hash of its content."""
    return {str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(project.rglob("*"))
            if path.is_file() and not {".run", ".meltano", "target", "logs"} & set(path.relative_to(project).parts)}


class Copy:
    """The project copy with its new source, its own warehouse and sandbox, and Meltano run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.run_dir = root / ".run"
        self.warehouse_port, self.sandbox_port = free_port(), free_port()
        self.warehouse = dict(host="127.0.0.1", port=self.warehouse_port, user="tributary",
                              password="tributary-dev", dbname="warehouse")
        self.env = {
            **os.environ,
            "WAREHOUSE_DIR": str(self.run_dir / "warehouse"), "WAREHOUSE_PORT": str(self.warehouse_port),
            "SANDBOX_STATE_DIR": str(self.run_dir / "sandbox"), "SANDBOX_PORT": str(self.sandbox_port),
            "SANDBOX_PROXY_PORT": str(free_port()), "SANDBOX_SCALE": "0.25",
            "MELTANO_DATABASE_URI": f"sqlite:///{self.run_dir / 'meltano.db'}",
            "XDG_STATE_HOME": str(self.run_dir / "xdg-state"), "MELTANO_ENVIRONMENT": "dev",
            "UV_COMPILE_BYTECODE": "1",
            "TARGET_POSTGRES_PORT": str(self.warehouse_port), "DBT_PORT": str(self.warehouse_port),
            f"TAP_{NAME.upper()}_API_URL": f"http://127.0.0.1:{self.sandbox_port}/{NAME}/v1",
        }
        self.env.pop("PYTHONPATH", None)

    def run(self, *cmd: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), cwd=cwd or self.root, env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)

    def meltano(self, *args: str, env: dict[str, str] | None = None) -> MeltanoResult:
        # The linked loader and dbt venvs were installed for the project's folder: a `meltano run`
        # in the copy would reinstall them for the copy's, through the links into the project's own
        # venvs, under every other running test. --no-install (Meltano 4.4.1 ignores `auto_install:
        # false` in `run`).
        if args[0] in ("run", "invoke"):
            args = (args[0], "--no-install", *args[1:])
        completed = self.run(str(BIN / "meltano"), *args, env=env)
        return MeltanoResult(completed.returncode, completed.stdout, list(args))

    def sandbox_cli(self, command: str) -> subprocess.CompletedProcess:
        # The copy's sandbox package, not the project's (installed editable): it has the new simulator.
        return self.run(str(BIN / "python"), "-m", "tributary_sandbox", command,
                        env={"PYTHONPATH": str(self.root / "extract" / "sandbox")})

    def sandbox(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.sandbox_port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def sql(self, query: str) -> list[tuple]:
        with psycopg.connect(**self.warehouse) as conn:
            return conn.execute(query).fetchall()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The copy, before and after the generator ran on it."""
    root = tmp_path_factory.mktemp("new-source") / "project"
    copy_tracked_files(root)
    before = fingerprint(root)
    generated = generate(root, NAME)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return root, before, generated


@pytest.fixture(scope="module")
def copy(project):
    root, _, _ = project
    handle = Copy(root)
    handle.run_dir.mkdir()
    for relative in SHARED_PLUGIN_VENVS:
        installed = PROJECT_ROOT / relative
        assert installed.is_dir(), f"{relative} is missing: run `make install` first"
        (root / relative).parent.mkdir(parents=True)
        (root / relative).symlink_to(installed)
    installed = handle.meltano("install", "--plugin-type", "extractor", TAP)
    assert installed.ok, installed.output[-3000:]
    started = handle.run(str(BIN / "python"), "load/warehouse.py", "start")
    assert started.returncode == 0, started.stdout
    try:
        sandbox = handle.sandbox_cli("start")
        assert sandbox.returncode == 0, sandbox.stdout
        yield handle
    finally:
        handle.sandbox_cli("stop")
        handle.run(str(BIN / "python"), "load/warehouse.py", "stop")
        # pytest keeps the last runs' temporary folders: leave no tap venv or warehouse behind
        shutil.rmtree(root / ".meltano" / "extractors", ignore_errors=True)
        shutil.rmtree(handle.run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def first_run(copy):
    result = copy.meltano("run", NAME)
    assert result.ok, result.output[-4000:]
    return result


def served(copy) -> list[tuple]:
    """The simulator's records as raw rows: (id, name, email, domain, status, value, created, updated)."""
    return sorted((r["id"], r["name"], r["email"], r["company_domain"], r["status"], r["lifetime_value"],
                   r["created_at"], r["updated_at"]) for r in copy.sandbox("GET", f"/_sandbox/{NAME}/records"))


def raw_rows(copy) -> list[tuple]:
    return copy.sql(f"""select id, name, email, company_domain, status, lifetime_value,
                               to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                               to_char(updated_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                        from raw_{NAME}.customers order by id""")


# -- the generator -------------------------------------------------------------------------------
def test_the_generator_makes_every_part_of_a_source(project):
    root, before, generated = project
    for made in (f"extract/{TAP}/tap_{NAME}/tap.py", f"extract/{TAP}/tests/test_core.py",
                 *(f"extract/sandbox/tributary_sandbox/vendors/{NAME}/{part}.py"
                   for part in ("__init__", "data", "auth", "api", "control")),
                 f"transform/models/staging/{NAME}/_{NAME}__sources.yml",
                 f"transform/models/staging/{NAME}/stg_{NAME}__customers.sql", f"bench/{NAME}_tap.py"):
        assert (root / made).is_file(), made
    after = fingerprint(root)
    changed = sorted(path for path in before if after[path] != before[path])
    assert changed == sorted(MELTANO_FILES)
    assert not any("__source__" in path or "__source__" in (root / path).read_text()
                   for path in after if path not in before), "a template placeholder was left unrendered"
    # The Makefile finds the new tap and its benchmark: `make test` runs its suite, `make bench` it.
    database = subprocess.run(["make", "-pn", "help"], cwd=root, capture_output=True, text=True).stdout
    found = dict(line.split(" := ", 1) for line in database.splitlines()
                 if line.startswith(("OUR_TAPS := ", "TAP_BENCHMARKS := ")))
    assert f"extract/{TAP}" in found["OUR_TAPS"].split()
    assert f"bench/{NAME}_tap.py" in found["TAP_BENCHMARKS"].split()


def test_the_generator_refuses_an_existing_source_and_changes_nothing(project):
    root, _, _ = project
    before = fingerprint(root)
    again = generate(root, NAME)
    assert again.returncode == 2
    assert f"source '{NAME}' exists already, nothing was changed" in again.stderr
    assert f"a job named {NAME} already exists" in again.stderr
    builtin = generate(root, "attio")
    assert builtin.returncode == 2 and "extractor tap-attio is already in" in builtin.stderr
    invalid = generate(root, "Acme-CRM")
    assert invalid.returncode == 2 and "not a usable source name" in invalid.stderr
    assert fingerprint(root) == before


def test_the_job_and_its_schedule_are_meltanos(copy):
    listed = copy.run(str(BIN / "meltano"), "schedule", "list", "--format=json")
    schedules = {s["name"]: s for s in json.loads(listed.stdout[listed.stdout.index("{"):])["schedules"]["job"]}
    assert schedules[f"{NAME}-daily"]["job"]["name"] == NAME


# -- the generated source, end to end -------------------------------------------------------------
def test_the_job_loads_every_record_the_simulator_serves(copy, first_run):
    records = served(copy)
    assert len(records) > 100
    assert raw_rows(copy) == records
    assert first_run.records_loaded() == {"customers": len(records)}


def test_staging_holds_every_record_typed(copy, first_run):
    expected = sorted((r[0], r[2].strip().lower(), r[4] == "active", Decimal(r[5])) for r in served(copy))
    staged = copy.sql(f"select customer_id, email, is_active, lifetime_value from staging.stg_{NAME}__customers "
                      "order by customer_id")
    assert staged == expected


def test_the_next_run_reads_only_the_changes_and_survives_a_server_error(copy, first_run):
    changed = copy.sandbox("POST", f"/_sandbox/{NAME}/mutate", {"update": 3, "create": 2})
    log_start = copy.sandbox("GET", "/_sandbox/requests")[-1]["seq"]
    copy.sandbox("POST", "/_sandbox/faults", {"rules": [{"vendor": NAME, "kind": "status", "status": 500}]})
    result = copy.meltano("run", NAME)
    assert result.ok, result.output[-4000:]
    statuses = [entry["status"] for entry in copy.sandbox("GET", f"/_sandbox/requests?since={log_start}")
                if entry["path"].startswith(f"/{NAME}/")]
    assert statuses[0] == 500 and statuses[1:] and set(statuses[1:]) == {200}   # retried
    loaded = result.records_loaded()["customers"]
    assert 5 <= loaded <= 6   # the 5 changes, and the boundary record (updated_since is inclusive)
    assert raw_rows(copy) == served(copy)
    for record_id in changed["created"]:
        assert copy.sql(f"select count(*) from staging.stg_{NAME}__customers where customer_id = '{record_id}'") == [(1,)]


def test_a_refused_token_is_one_line_naming_the_setting(copy, first_run):
    token = "not-the-acme-token-31337"
    result = copy.meltano("invoke", TAP, env={f"TAP_{NAME.upper()}_API_TOKEN": token})
    assert not result.ok
    named = [line for line in result.output.splitlines() if "Acme refused the API token (401" in line]
    assert named and f"set TAP_{NAME.upper()}_API_TOKEN" in named[0], result.output[-3000:]
    assert token not in result.output


def test_the_generated_taps_own_suite_passes(copy):
    tap_dir = copy.root / "extract" / TAP
    # as `make test` runs each tap's suite: from its folder (the tap is not installed in .venv here)
    result = copy.run(str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      env={"PYTHONPATH": str(tap_dir)}, cwd=tap_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout


def test_the_generated_benchmark_measures_the_tap_against_its_ceiling(copy):
    result = copy.run(str(BIN / "python"), f"bench/{NAME}_tap.py", "--records", "600", "--runs", "1")
    assert result.returncode == 0, result.stdout[-3000:]
    figures = json.loads((copy.root / "bench" / "results" / f"{NAME}_tap.json").read_text())
    assert figures["records"] == 600 and figures["ceiling_records_per_s"] > 0 and figures["tap_records_per_s"] > 0
    assert figures["requests_per_1000_records"] == 10.0   # 100 a page, no retries
    assert f"bench/{NAME}_tap.py --records 600 --runs 1" in (copy.root / "bench" / "RESULTS.md").read_text()
