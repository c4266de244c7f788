"""This pytest process's stack: which xdist worker it is, its ports and folder, and the private
stack (tests/private_stack.py) they describe. Test modules import these names from here.

`make test` runs the modules side by side with pytest-xdist (whole files per worker); each worker
("gw0", "gw1", …) has a stack of its own: its own folder, and ports 10 apart.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from private_stack import PrivateStack

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER.removeprefix("gw")) if WORKER else 0
RUN_DIR = Path(os.environ.get("TEST_RUN_DIR", PROJECT_ROOT / ".test-run")) / (WORKER or "main")
WAREHOUSE_PORT = int(os.environ.get("TEST_WAREHOUSE_PORT", "55442")) + 10 * WORKER_INDEX
SANDBOX_PORT = int(os.environ.get("TEST_SANDBOX_PORT", "8785")) + 10 * WORKER_INDEX
SANDBOX_PROXY_PORT = int(os.environ.get("TEST_SANDBOX_PROXY_PORT", "8786")) + 10 * WORKER_INDEX
# The one description of a private stack (ports, folders, the settings Meltano is given): shared
# with the benchmarks (bench/_stack.py).
PRIVATE_STACK = PrivateStack(RUN_DIR, WAREHOUSE_PORT, SANDBOX_PORT, SANDBOX_PROXY_PORT)
WAREHOUSE = PRIVATE_STACK.warehouse
