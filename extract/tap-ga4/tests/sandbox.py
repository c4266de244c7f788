"""Run the GA4 simulator (extract/sandbox/tributary_sandbox/ga4.py) on a free local port."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from tributary_sandbox import ga4  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.world import build_world  # noqa: E402

TODAY = dt.date(2026, 11, 25)
SHOP = "412345678"
BLOG = "412345679"


class RunningSandbox(ThreadedServer):
    """An aiohttp app with ga4.add_routes, served from a background thread."""

    def __init__(self, seed: int = 42, scale: float = 0.2, key_dir: Path | None = None) -> None:
        self.world = build_world(seed, scale, TODAY)
        self.app = ga4.make_app(self.world)
        super().__init__(self.app, "GA4 sandbox")
        self.api_url = f"{self.url}/ga4"

    @property
    def state(self) -> ga4.GA4Sandbox:
        return self.app[ga4.APP_KEY]

    def key(self) -> dict:
        return self.call(self.state.service_account_key, self.url)

    def config(self, auth: str = "service_account", **extra) -> dict:
        cfg = {"property_ids": [SHOP], "api_url": self.api_url, "start_date": "2026-10-26",
               "end_date": "2026-11-24"}
        if auth == "service_account":
            cfg["service_account_key"] = json.dumps(self.key())
        elif auth == "oauth":
            cfg.update(oauth_client_id=ga4.OAUTH_CLIENT_ID, oauth_client_secret=ga4.OAUTH_CLIENT_SECRET,
                       oauth_refresh_token=ga4.OAUTH_REFRESH_TOKEN, oauth_token_uri=f"{self.api_url}/token")
        cfg.update(extra)
        return cfg

    def report(self, property_id: str, body: dict) -> dict:
        """What the simulator answers for a request body (no quota charged)."""
        answer, _, _ = self.call(self.state.run_report, property_id, body)
        return answer
