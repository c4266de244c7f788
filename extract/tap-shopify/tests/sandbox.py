"""Run the Shopify simulator (extract/sandbox/tributary_sandbox/vendors/shopify/) alone on a free
local port, in the test's process: the same Sandbox the project serves, with this vendor only."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from tributary_sandbox.app import Sandbox, build_app  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.vendors import shopify as vendor  # noqa: E402
from tributary_sandbox.vendors.shopify import auth, data  # noqa: E402

TODAY = dt.date(2026, 11, 25)


class RunningSandbox(ThreadedServer):
    """The cost bucket is wide open (1,000,000 points, restored at 1,000,000/s) unless a test
    passes `maximum` / `restore_rate` (Simulator options) or narrows it with state.throttle.set."""

    def __init__(self, seed: int = 42, scale: float = 0.1, api_version: str | None = None, **options) -> None:
        self.api_version = api_version   # None: the tap's default
        options = {"maximum": 1_000_000, "restore_rate": 1_000_000, **options}
        self.sandbox = Sandbox(seed, scale, TODAY, only=[vendor.NAME], options={vendor.NAME: options})
        super().__init__(build_app(self.sandbox), "Shopify sandbox")
        self.api_url = f"{self.url}{vendor.API_PATH}"

    @property
    def state(self) -> vendor.Simulator:
        return self.sandbox.simulators[vendor.NAME]

    def faults(self, *rules: dict) -> None:
        self.call(self.sandbox.faults.set, list(rules))

    def config(self, **extra) -> dict:
        version = {"api_version": self.api_version} if self.api_version else {}
        return {"shop": data.SHOP, "access_token": auth.ACCESS_TOKEN, "api_url": self.api_url,
                "bulk_poll_interval": 0.02, "use_bulk": "never", **version, **extra}
