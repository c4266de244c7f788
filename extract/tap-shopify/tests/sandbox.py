"""Run the Shopify simulator (extract/sandbox/tributary_sandbox/shopify.py) on a free local port."""
from __future__ import annotations

import asyncio
import datetime as dt
import socket
import sys
import threading
from pathlib import Path

SANDBOX_SRC = Path(__file__).resolve().parents[2] / "sandbox"
if str(SANDBOX_SRC) not in sys.path:
    sys.path.insert(0, str(SANDBOX_SRC))

from aiohttp import web  # noqa: E402
from tributary_sandbox import shopify  # noqa: E402
from tributary_sandbox.world import build_world  # noqa: E402

TODAY = dt.date(2026, 11, 25)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningSandbox:
    """An aiohttp app with shopify.make_app, served from a background thread."""

    def __init__(self, seed: int = 42, scale: float = 0.1, maximum: float = 1_000_000,
                 restore_rate: float = 1_000_000) -> None:
        self.world = build_world(seed, scale, TODAY)
        self.app = shopify.make_app(self.world, maximum=maximum, restore_rate=restore_rate)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/shopify"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("Shopify sandbox did not start")
        self.call(self.state.set_faults, bulk_polls=2)

    @property
    def state(self) -> shopify.ShopifySandbox:
        return self.app[shopify.APP_KEY]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._ready.set()
        self._loop.run_forever()

    def call(self, fn, *args, **kwargs):
        """Run fn on the server's loop thread (state changes never race a request)."""
        async def go():
            return fn(*args, **kwargs)
        return asyncio.run_coroutine_threadsafe(go(), self._loop).result(60)

    def stop(self) -> None:
        async def down():
            await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(down(), self._loop).result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def config(self, **extra) -> dict:
        return {"shop": shopify.SHOP, "access_token": shopify.ACCESS_TOKEN, "api_url": self.api_url,
                "bulk_poll_interval": 0.02, "use_bulk": "never", **extra}
