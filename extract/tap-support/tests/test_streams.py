"""The stream bases: the fast record path writes what the SDK's stock path writes; the REST base
obeys Retry-After, backs off, logs each retry in one line and names a URL nothing answers at."""
from __future__ import annotations

import http.server
import json
import re
import threading
import time

import pytest
from singer_sdk.exceptions import FatalAPIError

from tests.toy_tap import TapToy
from tributary_tap_support import reach
from tributary_tap_support.testing import Messages, assert_same_messages, closed_port, select_all, sync_lines


def deselect(catalog: dict, *breadcrumb: str) -> dict:
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if tuple(md["breadcrumb"]) == breadcrumb:
                md["metadata"]["selected"] = False
    return catalog


def run(config: dict, *deselected: tuple[str, ...]) -> tuple[Messages, TapToy]:
    catalog = select_all(TapToy(config=config).catalog_dict)
    for breadcrumb in deselected:
        deselect(catalog, *breadcrumb)
    tap = TapToy(config=config, catalog=catalog)
    lines, _ = sync_lines(tap)
    return Messages(lines), tap


@pytest.mark.parametrize("deselected, shortcut", [
    ((), True),
    ((("properties", "secret"),), True),                          # a top-level column: dropped by name
    ((("properties", "nested", "properties", "b"),), False),      # a nested one: only the SDK's walk drops it
])
def test_the_fast_path_writes_what_the_stock_path_writes(deselected, shortcut):
    fast, fast_tap = run({"api_key": "k"}, *deselected)
    stock, stock_tap = run({"api_key": "k", "sdk_fast_path": False}, *deselected)
    assert_same_messages(fast, stock)
    assert len(fast.records("rows")) == 3
    rows = fast_tap.streams["rows"]
    assert (rows.deselected_columns is not None, rows.direct_writer is not None) == (shortcut, shortcut)
    assert stock_tap.streams["rows"].deselected_columns is None and stock_tap.streams["rows"].direct_writer is None
    kept = [(set(r), set(r["nested"])) for r in fast.records("rows")]
    if deselected:
        column = deselected[0][-1]
        assert all(column not in top and column not in nested for top, nested in kept)


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers GET /v1/items from `answers`: (status, headers) until the last, a page of one item."""

    answers: list[tuple[int, dict]] = []

    def do_GET(self) -> None:  # noqa: N802
        status, headers = Scripted.answers.pop(0) if Scripted.answers else (200, {})
        body = json.dumps({"data": [{"id": 1}]} if status == 200 else {"error": "busy"}).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def items(config: dict) -> tuple[Messages, TapToy]:
    tap = TapToy(config=config, catalog=select_all(TapToy(config=config).catalog_dict, {"items"}))
    lines, _ = sync_lines(tap)
    return Messages(lines), tap


def test_retry_after_is_obeyed_else_waits_double(api, monkeypatch, caplog):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    Scripted.answers = [(429, {"Retry-After": "3"}), (503, {}), (500, {})]
    out, tap = items({"api_key": "k", "api_url": api})
    assert out.records("items") == [{"id": 1}]
    assert [(b["status"], b["retry_after"]) for b in tap.backoff_log] == [(429, "3"), (503, None), (500, None)]
    waits = [b["wait"] for b in tap.backoff_log]
    assert 3.0 <= waits[0] <= 3.25 and 0.02 <= waits[1] <= 0.03 and 0.04 <= waits[2] <= 0.05   # 0.01 × 2, × 4
    assert slept[:3] == waits
    assert any(m.startswith("Toy 429 on /items (try 1): waiting 3.") and m.endswith("(Retry-After: 3)")
               for m in caplog.messages)


@pytest.mark.parametrize("status, said", [(401, "Toy refused the credentials ("), (404, "Toy answered GET /items with ")])
def test_a_refusal_or_a_client_error_is_not_retried(api, status, said):
    Scripted.answers = [(status, {})]
    with pytest.raises(FatalAPIError, match=re.escape(said)):
        items({"api_key": "k", "api_url": api})
    assert Scripted.answers == [], "asked once"


def test_a_url_nothing_listens_at_is_named_with_its_setting(monkeypatch):
    monkeypatch.setattr(reach, "sleep", lambda seconds: None)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(reach.Unreachable) as raised:
        items({"api_key": "k", "api_url": url})
    assert str(raised.value) == (f"cannot reach the Toy API at {url} (connection refused): "
                                 "check TAP_TOY_API_URL (default https://api.toy.example/v1)")
