"""200 answers a hostile Shopify could send: partial GraphQL errors (a resolver failed, its path
null beside good data) and pages that are not pages. Each is retried or fails naming the stream
and what was wrong; none is read as "no more rows" and no record with an errored path is sent."""
from __future__ import annotations

import json

import pytest

from tap_shopify import client
from tap_shopify.tap import TapShopify
from tests.runner import run_tap
from tributary_tap_support.testing import select_all, sync_lines


def tamper(monkeypatch, change):
    """Every GraphQL answer passes through `change(what, nth, body) -> body` (nth counts the
    answers to that `what` from 1)."""
    real = client.ShopifyClient._send
    seen: dict[str, int] = {}

    def send(self, request, what):
        response = real(self, request, what)
        if response.status_code == 200 and response.headers.get("Content-Type", "").startswith("application/json"):
            seen[what] = seen.get(what, 0) + 1
            response._content = json.dumps(change(what, seen[what], json.loads(response.content))).encode()
        return response
    monkeypatch.setattr(client.ShopifyClient, "_send", send)


def partial(body: dict, path: list) -> dict:
    """The answer with one field errored: null at its path, an error naming it."""
    holder = body["data"]
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = None
    body["errors"] = [{"message": "Internal error. Looks like something went wrong on our end.",
                       "path": path, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    return body


def failed_run(config: dict, stream: str) -> tuple[list[str], Exception]:
    tap = TapShopify(config=config, catalog=select_all(TapShopify(config=config).catalog_dict, {stream}))
    lines, error = sync_lines(tap, raise_errors=False)
    assert error is not None, "the run should have failed"
    return lines, error


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(client, "sleep", lambda seconds: None)


def test_a_partial_answer_is_retried_and_the_whole_answer_kept(sandbox, monkeypatch):
    whole = run_tap(sandbox.config(), only={"customers"}).records("customers")
    tamper(monkeypatch, lambda what, nth, body: partial(body, ["customers", "nodes", 0, "email"])
           if what == "customers page" and nth == 1 else body)
    taps = []
    out = run_tap(sandbox.config(), only={"customers"}, tap_out=taps)
    assert out.records("customers") == whole
    assert [r["status"] for r in taps[0].client.stats.retries] == ["errors at customers.nodes.0.email"]


def test_a_partial_answer_that_persists_fails_naming_the_paths_and_sends_no_record_of_it(sandbox, monkeypatch):
    tamper(monkeypatch, lambda what, nth, body: partial(body, ["customers", "nodes", 0, "email"])
           if what == "customers page" else body)
    lines, error = failed_run(sandbox.config(), "customers")
    assert isinstance(error, client.ShopifyAPIError)
    assert "customers page with errors at customers.nodes.0.email" in str(error) and "4 times" in str(error)
    assert not [line for line in lines if '"type":"RECORD"' in line.replace(" ", "")]
    assert not [line for line in lines if '"type":"STATE"' in line.replace(" ", "") and "customers" in line]


@pytest.mark.parametrize("page", [{}, {"customers": None}, {"customers": {"nodes": None}},
                                  {"customers": {"nodes": [], "pageInfo": {}}}])
def test_an_answer_that_is_not_a_page_fails_naming_the_stream(sandbox, monkeypatch, page):
    tamper(monkeypatch, lambda what, nth, body: {**body, "data": page} if what == "customers page" else body)
    _, error = failed_run(sandbox.config(), "customers")
    assert isinstance(error, client.ShopifyAPIError)
    assert str(error).startswith("stream 'customers': Shopify answered a page without customers.nodes")
