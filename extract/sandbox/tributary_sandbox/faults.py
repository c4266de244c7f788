"""Fault injection: a queue of rules, set through the control API, applied as aiohttp middleware.

A rule: {"vendor"?: "quickbooks"|"attio"|"shopify"|"ga4"|<a simulators/ name>, "path_contains"?: str,
         "kind": "status"|"drop"|"delay"|"slow"|"malformed"|"expire_tokens"|"mutate", "status"?: int, "body"?: str,
         "change"?: dict (mutate: the arguments of the vendor's /_sandbox/<vendor>/mutate),
         "seconds"?: float, "after"?: int (default 0), "count": int (default 1)}.
The first rule that matches a vendor request (never a /_sandbox/ request) fires and its count
goes down; spent rules disappear. A rule with "after": n first lets n matching requests through,
so a fault can land in the middle of a run rather than on its first request.
"status" answers that status (a QBO 429 gets Intuit's XML throttle Fault, other QBO statuses a
JSON Fault); "drop" closes the connection without an answer; "delay" waits, then lets the
request through; "slow" lets the request through and waits before sending its answer (the work,
token checks included, is done on arrival); "malformed" lets the request through and answers the first half of the real
body with the real status (a page cut off mid-way: broken JSON); "expire_tokens" expires every
access token the vendor has issued, then lets the request through (a token that dies mid-run);
"mutate" changes the vendor's data as its /_sandbox/<vendor>/mutate would (records deleted or
created between two pages of one listing), then lets the request through.
"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from .quickbooks import throttle_response

VENDOR_HOSTS = {
    "quickbooks.api.intuit.com": "quickbooks", "sandbox-quickbooks.api.intuit.com": "quickbooks",
    "oauth.platform.intuit.com": "quickbooks", "appcenter.intuit.com": "quickbooks", "developer.intuit.com": "quickbooks",
    "api.attio.com": "attio", "analyticsdata.googleapis.com": "ga4", "oauth2.googleapis.com": "ga4",
}
VALID_KINDS = ("status", "drop", "delay", "slow", "malformed", "expire_tokens", "mutate")


def vendor_of(request: web.Request) -> str | None:
    """Which vendor a request is for: by Host (through the proxy), else by path (plain port)."""
    host = (request.host or "").split(":")[0].lower()
    if host in VENDOR_HOSTS:
        return VENDOR_HOSTS[host]
    if host.endswith(".myshopify.com"):
        return "shopify"
    path = request.path
    if path.startswith(("/v3/company/", "/oauth2/v1/")):
        return "quickbooks"
    for vendor in ("attio", "ga4", "shopify"):
        if path.startswith(f"/{vendor}/"):
            return vendor
    # A source added from the template serves under /<name>/ (simulators/): its name is the vendor.
    first = path.strip("/").split("/", 1)[0]
    return first or None


class Faults:
    def __init__(self) -> None:
        self.rules: list[dict] = []
        # vendor -> a function expiring every access token that vendor issued (set by build_app)
        self.token_expirers: dict = {}
        # vendor -> its mutate(**change) (set by build_app)
        self.mutators: dict = {}

    def set(self, rules: list[dict]) -> list[dict]:
        clean = []
        for rule in rules:
            if rule.get("kind") not in VALID_KINDS:
                raise ValueError(f"fault kind must be one of {VALID_KINDS}: {rule!r}")
            if rule["kind"] == "status" and not isinstance(rule.get("status"), int):
                raise ValueError(f"a status fault needs an integer 'status': {rule!r}")
            if rule["kind"] == "expire_tokens" and rule.get("vendor") not in self.token_expirers:
                raise ValueError(f"an expire_tokens fault needs a 'vendor' among {sorted(self.token_expirers)}: {rule!r}")
            if rule["kind"] == "mutate" and (rule.get("vendor") not in self.mutators or not isinstance(rule.get("change"), dict)):
                raise ValueError(f"a mutate fault needs a 'vendor' among {sorted(self.mutators)} and a 'change' object: {rule!r}")
            clean.append({"count": 1, "after": 0, **rule})
        self.rules = clean
        return self.rules

    def clear(self) -> None:
        self.rules = []

    def take(self, request: web.Request) -> dict | None:
        vendor = vendor_of(request)
        target = request.path_qs
        for rule in self.rules:
            if rule.get("vendor") and rule["vendor"] != vendor:
                continue
            if rule.get("path_contains") and rule["path_contains"] not in target:
                continue
            if rule["after"] > 0:
                rule["after"] -= 1
                continue
            rule["count"] -= 1
            if rule["count"] <= 0:
                self.rules.remove(rule)
            return rule
        return None


def make_middleware(faults: Faults, clock):
    @web.middleware
    async def fault_middleware(request: web.Request, handler):
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        rule = faults.take(request)
        if rule is None:
            return await handler(request)
        if rule["kind"] == "delay":
            await asyncio.sleep(float(rule.get("seconds", 1)))
            return await handler(request)
        if rule["kind"] == "slow":
            response = await handler(request)
            await asyncio.sleep(float(rule.get("seconds", 1)))
            return response
        if rule["kind"] == "expire_tokens":
            faults.token_expirers[rule["vendor"]]()
            return await handler(request)
        if rule["kind"] == "mutate":
            faults.mutators[rule["vendor"]](**rule["change"])
            return await handler(request)
        if rule["kind"] == "malformed":
            response = await handler(request)
            body = getattr(response, "body", None)
            if not isinstance(body, (bytes, bytearray)) or len(body) < 2:
                return response       # a streamed or empty answer has nothing to cut
            return web.Response(status=response.status, body=bytes(body[:len(body) // 2]),
                                content_type=response.content_type)
        if rule["kind"] == "drop":
            # Close the socket with no answer; aiohttp quietly discards the response below.
            request["dropped"] = True
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)
        status = rule["status"]
        vendor = vendor_of(request)
        if "body" in rule:
            return web.Response(status=status, text=rule["body"],
                                content_type=rule.get("content_type", "application/json"))
        if vendor == "quickbooks" and status == 429:
            return throttle_response(clock.now())
        if vendor == "quickbooks":
            body = {"Fault": {"Error": [{"Message": "An application error has occurred while processing your request",
                                         "Detail": f"Injected fault (HTTP {status})", "code": "10000"}],
                              "type": "SystemFault"}}
        else:
            body = {"error": f"injected fault (HTTP {status})"}
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    return fault_middleware
