"""Run the Attio simulator (extract/sandbox/tributary_sandbox/attio.py) on a free local port."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from aiohttp import web  # noqa: E402
from tributary_sandbox import attio  # noqa: E402
from tributary_sandbox.threaded import ThreadedServer  # noqa: E402
from tributary_sandbox.world import build_world  # noqa: E402

API_KEY = attio.API_KEY
TODAY = dt.date(2026, 11, 25)


class RunningSandbox(ThreadedServer):
    """An aiohttp app with attio.add_routes, served from a background thread."""

    def __init__(self, seed: int = 42, scale: float = 0.25) -> None:
        self.world = build_world(seed, scale, TODAY)
        self.app = web.Application()
        attio.add_routes(self.app, self.world)
        attio.add_control_routes(self.app)
        super().__init__(self.app, "Attio sandbox")
        self.api_url = f"{self.url}/attio/v2"

    @property
    def state(self) -> attio.AttioSandbox:
        return self.app[attio.APP_KEY]

    def config(self, **extra) -> dict:
        return {"api_key": API_KEY, "api_url": self.api_url, **extra}
