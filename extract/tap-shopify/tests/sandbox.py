"""Run the Shopify simulator (extract/sandbox/tributary_sandbox/shopify.py) on a free local port."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from tributary_sandbox import shopify  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.world import build_world  # noqa: E402

TODAY = dt.date(2026, 11, 25)


class RunningSandbox(ThreadedServer):
    """An aiohttp app with shopify.make_app, served from a background thread."""

    def __init__(self, seed: int = 42, scale: float = 0.1, maximum: float = 1_000_000,
                 restore_rate: float = 1_000_000, api_version: str | None = None) -> None:
        self.api_version = api_version   # None: the tap's default
        self.world = build_world(seed, scale, TODAY)
        self.app = shopify.make_app(self.world, maximum=maximum, restore_rate=restore_rate)
        super().__init__(self.app, "Shopify sandbox")
        self.api_url = f"{self.url}/shopify"
        self.call(self.state.set_faults, bulk_polls=2)

    @property
    def state(self) -> shopify.ShopifySandbox:
        return self.app[shopify.APP_KEY]

    def config(self, **extra) -> dict:
        version = {"api_version": self.api_version} if self.api_version else {}
        return {"shop": shopify.SHOP, "access_token": shopify.ACCESS_TOKEN, "api_url": self.api_url,
                "bulk_poll_interval": 0.02, "use_bulk": "never", **version, **extra}
