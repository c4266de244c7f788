"""Serve one simulator app from a background thread on a free local port: the taps' own test
suites use it to talk to their vendor's simulator over real HTTP, in the test's process."""
from __future__ import annotations

import asyncio
import socket
import threading

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadedServer:
    """`app` served on 127.0.0.1:<free port> until `stop()`; `call()` runs code on its loop."""

    def __init__(self, app: web.Application, name: str = "sandbox") -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError(f"{name} did not start")

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
        return asyncio.run_coroutine_threadsafe(go(), self._loop).result(120)

    def stop(self) -> None:
        async def down():
            await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(down(), self._loop).result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
