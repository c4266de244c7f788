"""Run the GA4 simulator (extract/sandbox/tributary_sandbox/vendors/ga4/) alone on a free local
port, in the test's process: the same Sandbox the project serves, with this vendor only."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from tributary_sandbox.app import Sandbox, build_app  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.vendors import ga4 as vendor  # noqa: E402
from tributary_sandbox.vendors.ga4 import auth as ga4_auth  # noqa: E402

TODAY = dt.date(2026, 11, 25)
SHOP = "412345678"
BLOG = "412345679"


class RunningSandbox(ThreadedServer):
    def __init__(self, seed: int = 42, scale: float = 0.2, **options) -> None:
        self.sandbox = Sandbox(seed, scale, TODAY, only=[vendor.NAME], options={vendor.NAME: options})
        super().__init__(build_app(self.sandbox), "GA4 sandbox")
        self.api_url = f"{self.url}{vendor.API_PATH}"

    @property
    def state(self) -> vendor.Simulator:
        return self.sandbox.simulators[vendor.NAME]

    def faults(self, *rules: dict) -> None:
        self.call(self.sandbox.faults.set, list(rules))

    def key(self) -> dict:
        return self.call(self.state.auth.service_account_key, self.url)

    def config(self, auth: str = "service_account", **extra) -> dict:
        cfg = {"property_ids": [SHOP], "api_url": self.api_url, "start_date": "2026-10-26",
               "end_date": "2026-11-24"}
        if auth == "service_account":
            cfg["service_account_key"] = json.dumps(self.key())
        elif auth == "oauth":
            cfg.update(oauth_client_id=ga4_auth.OAUTH_CLIENT_ID, oauth_client_secret=ga4_auth.OAUTH_CLIENT_SECRET,
                       oauth_refresh_token=ga4_auth.OAUTH_REFRESH_TOKEN, oauth_token_uri=f"{self.api_url}/token")
        cfg.update(extra)
        return cfg

    def report(self, property_id: str, body: dict) -> dict:
        """What the simulator answers for a request body (no quota charged)."""
        answer, _, _ = self.call(self.state.reports.run_report, property_id, body)
        return answer
