"""Fault injection, the one system for every vendor: rules set through POST /_sandbox/faults.

A rule: {"vendor"?: a vendor's NAME, "path_contains"?: str, "kind": str, "after"?: int (default 0),
         "count"?: int (default 1), and what the kind needs}.
The first rule of a shared kind that matches a vendor request (never a /_sandbox/ request) fires
and its count goes down; spent rules disappear. A rule with "after": n first lets n matching
requests through, so a fault can land in the middle of a run rather than on its first request.
A rule without "path_contains" matches every path of its vendor, token endpoints included, and
fires before the vendor checks the credentials.

The kinds every vendor has, applied to the request before the vendor sees it:
  status         answers "status" (an int) as the vendor words that status (its Simulator's
                 error_response: Intuit's XML throttle Fault, Google's {"error": {code, message,
                 status}}, Attio's rate_limit_error with a Retry-After of "retry_after" seconds, …),
                 or with "body" (and "content_type") verbatim
  drop           closes the connection without an answer
  delay          waits "seconds", then lets the request through
  slow           lets the request through, then waits "seconds" before answering (the work,
                 token checks included, is done on arrival)
  malformed      answers the first half of the real body with the real status (broken JSON)
  expire_tokens  expires every access token the vendor issued, then lets the request through
  mutate         changes the vendor's data as its /_sandbox/<vendor>/mutate would, with the
                 arguments in "change", then lets the request through (a change between pages)
A vendor's own kinds (its FAULT_KINDS: Shopify's THROTTLED answer, a failed bulk job) pass the
request through untouched; the vendor's code takes them with `claim(vendor, kind)` where they
apply (their "after" counts those places, not requests). They need "vendor".
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DROPPED = web.RequestKey("dropped", bool)   # set on a request whose connection a "drop" fault closed: the log says 0
SHARED_KINDS = ("status", "drop", "delay", "slow", "malformed", "expire_tokens", "mutate")


@dataclass
class Vendor:
    """What the fault system knows of a mounted vendor: where its requests arrive, and its hooks."""
    name: str
    paths: tuple[str, ...]
    hosts: tuple[str, ...]
    kinds: dict[str, str] = field(default_factory=dict)
    simulator: Any = None

    def has_host(self, host: str) -> bool:
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.hosts)

    def has_path(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.paths)


class Faults:
    def __init__(self) -> None:
        self.rules: list[dict] = []
        self.vendors: dict[str, Vendor] = {}

    def register(self, vendor: Vendor) -> None:
        self.vendors[vendor.name] = vendor

    def vendor_of(self, request: web.Request) -> str | None:
        """Which vendor a request is for: by Host (through the proxy), else by path (plain port)."""
        host = (request.host or "").split(":")[0].lower()
        for vendor in self.vendors.values():
            if vendor.has_host(host):
                return vendor.name
        return next((v.name for v in self.vendors.values() if v.has_path(request.path)), None)

    def set(self, rules: list[dict]) -> list[dict]:
        clean = []
        for rule in rules:
            if not isinstance(rule, dict):
                raise ValueError(f"a fault rule is a JSON object: {rule!r}")
            kind, vendor = rule.get("kind"), self.vendors.get(rule.get("vendor") or "")
            if rule.get("vendor") is not None and vendor is None:
                raise ValueError(f"unknown vendor {rule['vendor']!r} (known: {', '.join(sorted(self.vendors))}): {rule!r}")
            own = vendor.kinds if vendor else {}
            if kind not in SHARED_KINDS and kind not in own:
                every_own = sorted(f"{k} ({v.name})" for v in self.vendors.values() for k in v.kinds)
                raise ValueError(f"fault kind must be one of {', '.join(SHARED_KINDS)}"
                                 + (f", or a vendor's own with that 'vendor': {', '.join(every_own)}" if every_own else "")
                                 + f": {rule!r}")
            for counter, least in (("count", 1), ("after", 0)):
                value = rule.get(counter, least)
                if not isinstance(value, int) or isinstance(value, bool) or value < least:
                    raise ValueError(f"a fault's {counter!r} is a whole number, at least {least}: {rule!r}")
            if kind == "status" and not isinstance(rule.get("status"), int):
                raise ValueError(f"a status fault needs an integer 'status': {rule!r}")
            if kind == "expire_tokens" and not hasattr(getattr(vendor, "simulator", None), "expire_tokens"):
                able = sorted(v.name for v in self.vendors.values() if hasattr(v.simulator, "expire_tokens"))
                raise ValueError(f"an expire_tokens fault needs a 'vendor' among {able}: {rule!r}")
            if kind == "mutate" and (not hasattr(getattr(vendor, "simulator", None), "mutate")
                                     or not isinstance(rule.get("change"), dict)):
                able = sorted(v.name for v in self.vendors.values() if hasattr(v.simulator, "mutate"))
                raise ValueError(f"a mutate fault needs a 'vendor' among {able} and a 'change' object: {rule!r}")
            clean.append({"count": 1, "after": 0, **rule})
        self.rules = clean
        return self.rules

    def clear(self) -> None:
        self.rules = []

    def _spend(self, rule: dict) -> bool:
        """Count a match: False while the rule still lets `after` matches through."""
        if rule["after"] > 0:
            rule["after"] -= 1
            return False
        rule["count"] -= 1
        if rule["count"] <= 0 and rule in self.rules:   # a claim on another thread may race a new set of rules
            self.rules.remove(rule)
        return True

    def take(self, request: web.Request) -> dict | None:
        """The shared-kind rule this request sets off, if any."""
        vendor = self.vendor_of(request)
        target = request.path_qs
        for rule in list(self.rules):
            if rule["kind"] not in SHARED_KINDS:
                continue
            if rule.get("vendor") and rule["vendor"] != vendor:
                continue
            if rule.get("path_contains") and rule["path_contains"] not in target:
                continue
            if self._spend(rule):
                return rule
        return None

    def claim(self, vendor: str, kind: str, target: str = "") -> dict | None:
        """A vendor's own fault of `kind`, if one is armed (its count goes down), else None."""
        for rule in list(self.rules):
            if rule["kind"] != kind or rule.get("vendor") != vendor:
                continue
            if rule.get("path_contains") and rule["path_contains"] not in target:
                continue
            if self._spend(rule):
                return rule
        return None


def generic_error(status: int) -> web.Response:
    """An injected status for a vendor that words none of its own."""
    return web.json_response({"error": f"injected fault (HTTP {status})"}, status=status)


def make_middleware(faults: Faults):
    @web.middleware
    async def fault_middleware(request: web.Request, handler):
        if request.path.startswith(("/_sandbox/", "/instances/")) and "/_sandbox/" in request.path:  # hooks, instances' too
            return await handler(request)
        rule = faults.take(request)
        if rule is None:
            return await handler(request)
        kind = rule["kind"]
        simulator = getattr(faults.vendors.get(rule.get("vendor") or faults.vendor_of(request) or ""),
                            "simulator", None)
        if kind == "delay":
            await asyncio.sleep(float(rule.get("seconds", 1)))
            return await handler(request)
        if kind == "slow":
            response = await handler(request)
            await asyncio.sleep(float(rule.get("seconds", 1)))
            return response
        if kind == "expire_tokens":
            simulator.expire_tokens()
            return await handler(request)
        if kind == "mutate":
            simulator.mutate(**rule["change"])
            return await handler(request)
        if kind == "malformed":
            response = await handler(request)
            body = getattr(response, "body", None)
            if not isinstance(body, (bytes, bytearray)) or len(body) < 2:
                return response       # a streamed or empty answer has nothing to cut
            return web.Response(status=response.status, body=bytes(body[:len(body) // 2]),
                                content_type=response.content_type)
        if kind == "drop":
            # Close the socket with no answer; aiohttp quietly discards the response below.
            request[DROPPED] = True
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)
        status = rule["status"]
        if "body" in rule:
            body = rule["body"] if isinstance(rule["body"], str) else json.dumps(rule["body"])
            return web.Response(status=status, text=body, content_type=rule.get("content_type", "application/json"))
        if simulator is not None and hasattr(simulator, "error_response"):
            return simulator.error_response(status, rule)
        return generic_error(status)

    return fault_middleware
