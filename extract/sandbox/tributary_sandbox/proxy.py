"""HTTPS-intercepting CONNECT proxy: how an unmodified tap with hard-coded https:// vendor hosts
reaches the simulator.

The tap runs with HTTPS_PROXY=http://127.0.0.1:<proxy_port> and REQUESTS_CA_BUNDLE=<state>/ca.pem.
For `CONNECT host:443` we answer 200, do the TLS server side with the leaf certificate
(`StreamWriter.start_tls`), then pipe bytes both ways to the simulator's plain HTTP port. The
HTTP Host header inside the tunnel still names the vendor, which is how the app routes and logs.
Only the simulated hosts are tunnelled; anything else gets 403 (we never reach the internet).
"""
from __future__ import annotations

import asyncio
import fnmatch
import logging
import ssl

from .certs import LEAF_DNS_NAMES, LEAF_IPS

log = logging.getLogger("tributary_sandbox.proxy")


def _simulated(host: str) -> bool:
    return host in LEAF_IPS or any(fnmatch.fnmatch(host, pat) for pat in LEAF_DNS_NAMES)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


class InterceptingProxy:
    def __init__(self, cert_file: str, key_file: str, backend_host: str, backend_port: int) -> None:
        self.ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ssl_ctx.load_cert_chain(cert_file, key_file)
        self.backend = (backend_host, backend_port)
        self.server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._client, host, port)

    async def close(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._tunnel(reader, writer)
        except asyncio.CancelledError:    # server shutting down: just drop the tunnel
            writer.close()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
            writer.close()
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split()
        if len(parts) != 3 or parts[0].upper() != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        host = parts[1].rsplit(":", 1)[0].strip("[]").lower()
        if not _simulated(host):
            msg = f"tributary-sandbox proxy: {host} is not a simulated host\n".encode()
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: "
                         + str(len(msg)).encode() + b"\r\nConnection: close\r\n\r\n" + msg)
            await writer.drain()
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        try:
            await writer.start_tls(self.ssl_ctx)
            up_reader, up_writer = await asyncio.open_connection(*self.backend)
        except (ssl.SSLError, ConnectionError, OSError) as err:
            log.info("tunnel to %s failed: %s", host, err)
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
