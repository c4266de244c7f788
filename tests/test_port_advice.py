"""A port taken on the developer's machine: the warehouse and the sandbox refuse to start with one
line saying what moves them, and that advice, applied as written, moves every part that uses the
port (the dev environment's loader, dbt and taps, as Meltano resolves their settings)."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from this_worker import RUN_DIR, WORKER_INDEX

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def held_port():
    """A port another program listens on. Below the kernel's ephemeral range (32768 and up on
    Linux): the port advised next to it must not be taken meanwhile by some client's outgoing
    connection, as ports in that range are, all the time, while the suite runs."""
    first = 20000 + 200 * WORKER_INDEX + random.randrange(150)
    for port in range(first, first + 50):
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen()
        return sock
    raise RuntimeError(f"no free port from {first} on")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any setting the advice is about."""
    env = {k: v for k, v in os.environ.items()
           if not re.match(r"(WAREHOUSE|SANDBOX|TARGET_POSTGRES|DBT|TAP_[A-Z0-9]+)_", k)}
    return {**env, "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "XDG_STATE_HOME": str(tmp_path / "xdg"), **extra}


def advice(stderr: str) -> dict[str, str]:
    """The `export A=1 B=2` the message gives, as variables."""
    [line] = re.findall(r"export (.+)$", stderr.strip(), re.M)
    return dict(word.split("=", 1) for word in shlex.split(line))


def dev_config(env: dict[str, str], plugin: str) -> dict:
    printed = subprocess.run([str(BIN / "meltano"), "--environment=dev", "config", "print", plugin], cwd=PROJECT_ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0, printed.stderr[-2000:]
    return json.loads(printed.stdout[printed.stdout.index("{"):])


def test_a_taken_warehouse_port_names_what_moves_the_loader_and_dbt_too(tmp_path):
    with held_port() as taken:
        port = taken.getsockname()[1]
        # Under the worker's run folder, not tmp_path: as root the server user cannot reach pytest's
        # 0700 temp folder, and the script would fall back to a folder in /tmp this test leaves behind
        warehouse_dir = RUN_DIR / "port-advice-warehouse"
        env = clean_env(tmp_path, WAREHOUSE_PORT=str(port), WAREHOUSE_DIR=str(warehouse_dir))
        refused = subprocess.run([str(BIN / "python"), "load/warehouse.py", "start"], cwd=PROJECT_ROOT, env=env,
                                 capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert f"{port} is already taken" in refused.stderr
    moved = advice(refused.stderr)
    new_port = moved["WAREHOUSE_PORT"]
    assert new_port != str(port)

    applied = {**env, **moved}
    assert str(dev_config(applied, "target-postgres")["port"]) == new_port
    assert str(dev_config(applied, "dbt")["port"]) == new_port
    started = subprocess.run([str(BIN / "python"), "load/warehouse.py", "start"], cwd=PROJECT_ROOT, env=applied,
                             capture_output=True, text=True, timeout=120)
    try:
        assert started.returncode == 0, started.stderr
        with socket.create_connection(("127.0.0.1", int(new_port)), timeout=5):
            pass  # the warehouse answers where the loader and dbt now look
    finally:
        subprocess.run([str(BIN / "python"), "load/warehouse.py", "stop"], cwd=PROJECT_ROOT, env=applied,
                       capture_output=True, timeout=120)
        shutil.rmtree(warehouse_dir, ignore_errors=True)


def sandbox_refused(tmp_path: Path, taken: str) -> tuple[dict[str, str], dict[str, str]]:
    """`tributary_sandbox start` with its `taken` port ("SANDBOX_PORT" or "SANDBOX_PROXY_PORT") held
    by another program: refused in one line; returns the environment and the advice's variables."""
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    with free, held_port() as held:
        ports = {taken: held.getsockname()[1], ({"SANDBOX_PORT", "SANDBOX_PROXY_PORT"} - {taken}).pop(): free.getsockname()[1]}
        env = clean_env(tmp_path, **{k: str(v) for k, v in ports.items()}, SANDBOX_STATE_DIR=str(tmp_path / "sandbox"))
        free.close()
        refused = subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", "start"], cwd=PROJECT_ROOT,
                                 env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    moved = advice(refused.stderr)
    assert moved[taken] != str(ports[taken])
    return env, moved


def test_a_taken_sandbox_port_names_what_moves_every_tap_too(tmp_path):
    env, moved = sandbox_refused(tmp_path, "SANDBOX_PORT")
    for tap in ("tap-attio", "tap-ga4", "tap-shopify"):
        assert f"127.0.0.1:{moved['SANDBOX_PORT']}/" in dev_config({**env, **moved}, tap)["api_url"], tap


def test_a_taken_proxy_port_names_what_moves_the_quickbooks_tap_too(tmp_path):
    env, moved = sandbox_refused(tmp_path, "SANDBOX_PROXY_PORT")
    assert dev_config({**env, **moved}, "tap-quickbooks")["https_proxy"] == f"http://127.0.0.1:{moved['SANDBOX_PROXY_PORT']}"
