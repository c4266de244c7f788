"""A real sandbox server (subprocess, free ports, its own state dir) and a `requests` client that
reaches it the way the tap does: through the CONNECT proxy, trusting the generated CA."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tributary_sandbox.vendors import quickbooks as q

QBO = "https://quickbooks.api.intuit.com"
OAUTH = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
BASE = f"/v3/company/{q.REALM_ID}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    def __init__(self, state: Path, port: int, proxy_port: int) -> None:
        self.state, self.port, self.proxy_port = state, port, proxy_port
        self.control = f"http://127.0.0.1:{port}"
        self.proxy_url = f"http://127.0.0.1:{proxy_port}"
        self.ca = str(state / "ca.pem")
        self.http = requests.Session()
        self.http.trust_env = False      # the machine sets REQUESTS_CA_BUNDLE; be explicit
        self.access_token: str | None = None

    # vendor calls, through the proxy with the sandbox CA (verify per request: env would win otherwise)
    def vendor(self, method: str, url: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.http.request(method, url, proxies={"https": self.proxy_url}, verify=self.ca, **kw)

    def refresh(self, token: str = q.INITIAL_REFRESH_TOKEN, **kw) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": token,
                "client_id": q.CLIENT_ID, "client_secret": q.CLIENT_SECRET, **kw}
        return self.vendor("POST", OAUTH, data=data)

    def login(self) -> str:
        token = self.ctl("GET", "/_sandbox/quickbooks/tokens")["refresh_token"]
        resp = self.refresh(token)
        resp.raise_for_status()
        self.access_token = resp.json()["access_token"]
        return self.access_token

    def api(self, method: str, path: str, **kw) -> requests.Response:
        if self.access_token is None:
            self.login()
        headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json", **kw.pop("headers", {})}
        params = {"minorversion": "75", **kw.pop("params", {})}
        return self.vendor(method, QBO + BASE + path, headers=headers, params=params, **kw)

    def query(self, text: str) -> dict:
        resp = self.api("GET", "/query", params={"query": text})
        resp.raise_for_status()
        return resp.json()["QueryResponse"]

    def all_rows(self, entity: str, where: str = "Active IN (true, false)") -> list[dict]:
        rows, start = [], 1
        while True:
            qr = self.query(f"SELECT * FROM {entity} WHERE Metadata.LastUpdatedTime >= '2000-01-01T00:00:00Z'"
                            + (f" AND {where}" if where else "") +
                            f" ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION {start} MAXRESULTS 1000")
            if not qr.get("maxResults"):
                return rows
            rows += qr[entity]
            start += qr["maxResults"]

    def ctl(self, method: str, path: str, json_body: dict | None = None):
        resp = self.http.request(method, self.control + path, json=json_body, timeout=60)
        resp.raise_for_status()
        return resp.json()


@contextlib.contextmanager
def serving(state: Path, *options: str):
    """A sandbox server in a subprocess (free ports, `state` as its state dir), up until the block ends."""
    port, proxy_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tributary_sandbox", "serve", "--state-dir", str(state),
                             "--port", str(port), "--proxy-port", str(proxy_port), "--seed", "42", *options],
                            stdout=open(state / "serve.log", "wb"), stderr=subprocess.STDOUT, env=env)
    sim = Sim(state, port, proxy_port)
    deadline = time.monotonic() + 60
    while True:
        try:
            sim.ctl("GET", "/_sandbox/health")
            break
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sandbox did not start:\n" + (state / "serve.log").read_text())
            time.sleep(0.1)
    try:
        yield sim
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def two_businesses(tmp_path_factory):
    """A sandbox serving a second business beside the default one, on the vendors whose own
    clients referee it here (SANDBOX_INSTANCES=quickbooks:second,attio:second,ga4:second)."""
    with serving(tmp_path_factory.mktemp("sandbox-two-businesses"), "--scale", "0.3",
                 "--instances", "quickbooks:second,attio:second,ga4:second") as sim:
        yield sim


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("sandbox-state")) as sim:
        yield sim


@pytest.fixture()
def sim(sim_server):
    """The server, reset to seed 42 / scale 1 before each test."""
    sim_server.ctl("POST", "/_sandbox/reset", {"seed": 42, "scale": 1.0})
    sim_server.access_token = None
    return sim_server
