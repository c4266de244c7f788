"""What the operations modules share (test_operations.py, test_operations_locks.py): the
orchestrate/ commands run as a user runs them, against the test stack, with their output folder
(locks, logs, reports) inside the stack's own folder."""

from __future__ import annotations

import subprocess

from this_worker import BIN, PROJECT_ROOT, RUN_DIR

OUTPUT = RUN_DIR / "output"


def ops_env(stack, **extra) -> dict[str, str]:
    return {**stack.env, "TRIBUTARY_OUTPUT_DIR": str(OUTPUT), **extra}


def command(stack, script: str, *args: str, timeout: int = 600, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), f"orchestrate/{script}", *args], cwd=PROJECT_ROOT,
                          env=ops_env(stack, **extra), capture_output=True, text=True, timeout=timeout)


def start(stack, script: str, *args: str, log) -> subprocess.Popen:
    """Started in the background; its output goes to a file (a full pipe would stall it)."""
    return subprocess.Popen([str(BIN / "python"), f"orchestrate/{script}", *args], cwd=PROJECT_ROOT,
                            env=ops_env(stack), stdout=open(log, "w"), stderr=subprocess.STDOUT, text=True)
