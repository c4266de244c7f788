"""Run the __Source__ simulator (extract/sandbox/tributary_sandbox/simulators/__source__.py) on a
free local port, in the test's process."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from tributary_sandbox.simulators import __source__ as simulator  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.world import build_world  # noqa: E402

TODAY = dt.date(2026, 11, 25)


class RunningSandbox(ThreadedServer):
    def __init__(self, seed: int = 42, scale: float = 0.25) -> None:
        self.app = simulator.make_app(build_world(seed, scale, TODAY))
        super().__init__(self.app, "__Source__ sandbox")
        self.api_url = f"{self.url}{simulator.PREFIX}"

    @property
    def state(self) -> simulator.__Source__Sandbox:
        return self.app[simulator.APP_KEY]

    def faults(self, *rules: dict) -> None:
        self.call(self.app[simulator.FAULTS_KEY].set, list(rules))

    def config(self, **extra) -> dict:
        return {"api_token": simulator.API_TOKEN, "api_url": self.api_url, **extra}
