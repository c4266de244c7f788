"""Run the __Source__ simulator (extract/sandbox/tributary_sandbox/vendors/__source__/) alone on a
free local port, in the test's process: the same Sandbox the project serves, with this vendor only."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from tributary_sandbox.app import Sandbox, build_app  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.vendors import __source__ as vendor  # noqa: E402
from tributary_sandbox.vendors.__source__ import auth  # noqa: E402

TODAY = dt.date(2026, 11, 25)


class RunningSandbox(ThreadedServer):
    def __init__(self, seed: int = 42, scale: float = 0.25, **options) -> None:
        self.sandbox = Sandbox(seed, scale, TODAY, only=[vendor.NAME], options={vendor.NAME: options})
        super().__init__(build_app(self.sandbox), "__Source__ sandbox")
        self.api_url = f"{self.url}{vendor.API_PATH}"

    @property
    def state(self) -> vendor.Simulator:
        return self.sandbox.simulators[vendor.NAME]

    def faults(self, *rules: dict) -> None:
        self.call(self.sandbox.faults.set, list(rules))

    def config(self, **extra) -> dict:
        return {"api_token": auth.API_TOKEN, "api_url": self.api_url, **extra}
