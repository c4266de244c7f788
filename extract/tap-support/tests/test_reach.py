"""First contact: refused connections and unknown hosts are named at once, other failures are not."""
from __future__ import annotations

import http.client
import socket

import pytest
import requests
import urllib3
from singer_sdk.exceptions import FatalAPIError

from tributary_tap_support import reach


class Unreachable(Exception):
    """Stands in for a tap's own error (AttioUnreachable, …)."""


def unreachable(base_url: str, reason: str) -> Unreachable:
    return Unreachable(f"cannot reach the API at {base_url} ({reason}): check TAP_X_API_URL")


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_after_the_api_answered_is_an_outage_and_retried(monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    slept = []
    monkeypatch.setattr(reach, "sleep", slept.append)
    monkeypatch.setattr(reach, "_answered", set())
    with pytest.raises(Unreachable) as raised:          # never answered: a wrong URL
        reach.reach(lambda: requests.get(url, timeout=5), url, unreachable)
    assert str(raised.value) == f"cannot reach the API at {url} (connection refused): check TAP_X_API_URL"
    assert slept == [1.0] * (reach.QUICK_TRIES - 1)     # tried QUICK_TRIES times, a second apart
    monkeypatch.setattr(reach, "_answered", {url})
    with pytest.raises(requests.ConnectionError):       # answered before: raised for the long retries
        reach.reach(lambda: requests.get(url, timeout=5), url, unreachable)


def test_an_answer_marks_the_url_as_reached(monkeypatch):
    monkeypatch.setattr(reach, "_answered", set())
    answer = requests.Response()
    assert reach.reach(lambda: answer, "http://api.example/v1", unreachable) is answer
    assert reach._answered == {"http://api.example/v1"}


def test_only_refused_and_unknown_hosts_count_as_unreachable():
    dropped = requests.ConnectionError(urllib3.exceptions.ProtocolError(
        "Connection aborted.", http.client.RemoteDisconnected("Remote end closed connection without response")))
    assert reach.unreachable_reason(dropped) is None
    assert reach.unreachable_reason(requests.ConnectTimeout("timed out")) is None
    assert reach.unreachable_reason(requests.ReadTimeout("timed out")) is None
    assert reach.unreachable_reason(ConnectionRefusedError()) is None    # not from requests
    try:
        requests.get("http://no-such-host.invalid/", timeout=5)
    except requests.ConnectionError as exc:
        assert reach.unreachable_reason(exc) == "host not found"
    else:
        pytest.fail("no-such-host.invalid resolved")


def test_unreachable_names_the_api_the_url_and_the_setting():
    error = reach.unreachable_error("Attio API", reach.url_setting_fix("tap-attio", "api_url", "https://api.attio.com/v2"))(
        "http://127.0.0.1:9/attio/v2", "connection refused")
    assert isinstance(error, reach.Unreachable) and isinstance(error, FatalAPIError)
    assert str(error) == ("cannot reach the Attio API at http://127.0.0.1:9/attio/v2 (connection refused): "
                          "check TAP_ATTIO_API_URL (default https://api.attio.com/v2)")
    assert reach.url_setting_fix("tap-my-source") == "check TAP_MY_SOURCE_API_URL"   # no default: required
