"""Google Analytics 4 Data API v1beta, simulated: the routes, the properties' quotas, Google's errors.

What it serves (under `/ga4`, so a client's api_url is `http://127.0.0.1:<port>/ga4`):
  POST /ga4/v1beta/properties/{id}:runReport    dateRanges, dimensions, metrics, dimensionFilter,
                                                metricFilter, orderBys, limit, offset,
                                                keepEmptyRows, returnPropertyQuota
  POST /ga4/v1beta/properties/{id}:batchRunReports   up to 5 reports, each charged as its own
  POST /ga4/v1beta/properties/{id}:checkCompatibility   from the metadata, no quota charged
  GET  /ga4/v1beta/properties/{id}/metadata     dimensions and metrics, custom definitions included
(POST /ga4/token is auth.py's; what a report answers is reports.py's.)

Quota (per property, returned as `propertyQuota` when asked; the tokens a report costs are
reports.py's). Budgets are Google's standard-property ones: tokensPerDay 200,000 (resets at
midnight America/Los_Angeles), tokensPerHour 40,000, tokensPerProjectPerHour 14,000 (reset on the
hour, sandbox clock), concurrentRequests 10, potentiallyThresholdedRequestsPerHour 120,
serverErrorsPerProjectPerHour 10 (reported only). A request is refused when a budget is already
spent: 429 RESOURCE_EXHAUSTED, e.g. "Exhausted property tokens for a project per hour. These quota
tokens will return in under an hour." POST /_sandbox/ga4/quota sets what remains.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
from typing import Any, Callable
from zoneinfo import ZoneInfo

from aiohttp import web

from . import API_PATH
from .auth import NO_PROPERTY_ACCESS, UNAUTHENTICATED
from .data import TIME_ZONE
from .reports import THRESHOLD_DIMENSIONS, ApiError, normalize, bad, google_error

API = f"{API_PATH}/v1beta"
QUOTA_LIMITS = {"tokensPerDay": 200_000, "tokensPerHour": 40_000, "tokensPerProjectPerHour": 14_000,
                "concurrentRequests": 10, "serverErrorsPerProjectPerHour": 10,
                "potentiallyThresholdedRequestsPerHour": 120}
QUOTA_MESSAGES = {
    "tokensPerDay": "Exhausted property tokens per day. These quota tokens will return tomorrow "
                    "(midnight Pacific time).",
    "tokensPerHour": "Exhausted property tokens per hour. These quota tokens will return in under an hour.",
    "tokensPerProjectPerHour": "Exhausted property tokens for a project per hour. These quota tokens will "
                               "return in under an hour.",
    "concurrentRequests": "Exhausted concurrent requests quota.",
    "potentiallyThresholdedRequestsPerHour": "Exhausted potentially thresholded requests per hour. These "
                                             "quota tokens will return in under an hour.",
}
# An injected HTTP status, as Google words it: {status: (google.rpc status name, message)}.
INJECTED_ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", UNAUTHENTICATED),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    409: ("ABORTED", "The operation was aborted."),
    429: ("RESOURCE_EXHAUSTED", QUOTA_MESSAGES["concurrentRequests"]),
    499: ("CANCELLED", "The operation was cancelled."),
    500: ("INTERNAL", "Internal error encountered."),
    501: ("UNIMPLEMENTED", "Operation is not implemented, or supported, or enabled."),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
    504: ("DEADLINE_EXCEEDED", "The request deadline was exceeded."),
}


def injected_error(status: int) -> web.Response:
    """The answer to a "status" fault: Google's error body for that HTTP status."""
    name, message = INJECTED_ERRORS.get(status) or (("INTERNAL", "Internal error encountered.") if status >= 500
                                                    else ("FAILED_PRECONDITION", "Precondition check failed."))
    return google_error(status, name, message)


class Quota:
    """Every property's budgets in their current windows, the reports in flight, the tokens charged."""

    def __init__(self, now: Callable[[], dt.datetime], properties: dict[str, dict]) -> None:
        self.now = now
        self.properties = properties
        self.budgets: dict[str, dict] = {}
        self.in_flight: collections.Counter = collections.Counter()
        self.tokens_charged: collections.Counter = collections.Counter()

    def _windows(self) -> dict:
        now = self.now()
        hour = now.replace(minute=0, second=0)
        day = now.astimezone(ZoneInfo(TIME_ZONE)).date().isoformat()
        return {"tokensPerDay": day, "tokensPerHour": hour, "tokensPerProjectPerHour": hour,
                "potentiallyThresholdedRequestsPerHour": hour, "serverErrorsPerProjectPerHour": hour}

    def _quota(self, pid: str) -> dict:
        q = self.budgets.setdefault(pid, {})
        for name, window in self._windows().items():
            if name not in q or q[name]["window"] != window:
                q[name] = {"window": window, "consumed": 0}
        return q

    def remaining(self, pid: str, name: str) -> int:
        if name == "concurrentRequests":
            return QUOTA_LIMITS[name] - self.in_flight[pid]
        return QUOTA_LIMITS[name] - self._quota(pid)[name]["consumed"]

    def set_remaining(self, property_id: str | None = None, **remaining: int) -> dict:
        """Set what remains of each named budget (e.g. tokensPerProjectPerHour=20) in the current window."""
        for pid in ([property_id] if property_id else list(self.properties)):
            q = self._quota(str(pid))
            for name, left in remaining.items():
                if name not in q:
                    raise ValueError(f"unknown quota {name!r}; one of {sorted(q)}")
                q[name]["consumed"] = QUOTA_LIMITS[name] - int(left)
        return self.as_json(property_id or next(iter(self.properties)))

    def as_json(self, pid: str) -> dict:
        """The property's `propertyQuota`."""
        out = {}
        for name in ("tokensPerDay", "tokensPerHour", "concurrentRequests", "serverErrorsPerProjectPerHour",
                     "potentiallyThresholdedRequestsPerHour", "tokensPerProjectPerHour"):
            left = self.remaining(pid, name)
            out[name] = {"consumed": QUOTA_LIMITS[name] - left if name != "concurrentRequests" else 0,
                         "remaining": max(0, left)}
        return out

    def refusal(self, pid: str, thresholded: bool) -> ApiError | None:
        """Why a report must be refused now (a budget already spent), if it must."""
        for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
            if self.remaining(pid, name) <= 0:
                return ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES[name])
        if thresholded and self.remaining(pid, "potentiallyThresholdedRequestsPerHour") <= 0:
            return ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES["potentiallyThresholdedRequestsPerHour"])
        return None

    def charge(self, pid: str, tokens: int, thresholded: bool) -> None:
        q = self._quota(pid)
        for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
            q[name]["consumed"] += tokens
        if thresholded:
            q["potentiallyThresholdedRequestsPerHour"]["consumed"] += 1
        self.tokens_charged[pid] += tokens


def _property(pid: str, properties: dict[str, dict]) -> str:
    if not pid.isdigit():
        raise bad(f"Invalid property: properties/{pid}. A property must be 'properties/' followed by a "
                  "numeric property id.")
    if pid not in properties and pid != "0":
        raise ApiError(403, "PERMISSION_DENIED", NO_PROPERTY_ACCESS)
    return pid


def add_routes(app: web.Application, simulator) -> None:
    """The Data API's property routes: reports (one, a batch, compatibility) and metadata."""

    async def property_call(request: web.Request) -> web.StreamResponse:
        target = request.match_info["target"]
        pid, _, method = target.partition(":")
        try:
            if method not in ("runReport", "batchRunReports", "checkCompatibility"):
                raise ApiError(404, "NOT_FOUND", f"Method not found: {target}")
            err = simulator.auth.check_token(request.headers.get("Authorization", ""))
            if err:
                raise err
            _property(pid, simulator.properties)
            if simulator.quota.in_flight[pid] >= QUOTA_LIMITS["concurrentRequests"]:
                raise ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES["concurrentRequests"])
            try:
                body = await request.json()
            except ValueError:
                raise bad("Invalid JSON payload received.") from None
            if not isinstance(body, dict):
                raise bad("Invalid JSON payload received. Expected an object.")
            if method == "checkCompatibility":   # answered from the metadata: no report runs, no quota charged
                simulator.requests[method] += 1
                return web.json_response(simulator.reports.check_compatibility(pid, body))
            if method == "batchRunReports":   # up to 5 reports in one call, each charged as its own
                requests = normalize(body).get("requests")
                if not isinstance(requests, list) or not requests:
                    raise bad("requests must be set.")
                if len(requests) > 5:
                    raise bad(f"Batch requests allow at most 5 requests. This request has {len(requests)} requests.")
                if set(normalize(body)) - {"property", "requests"}:
                    raise bad("Invalid JSON payload received. Unknown name: Cannot find field.")
            simulator.requests[method] += 1
            simulator.quota.in_flight[pid] += 1
            try:
                answers = [one_report(pid, report) for report in (requests if method == "batchRunReports" else [body])]
            finally:
                simulator.quota.in_flight[pid] -= 1
        except ApiError as exc:
            return exc.response()
        if method == "batchRunReports":
            return web.Response(body=b'{"reports":[' + b",".join(answers) + b'],"kind":"analyticsData#batchRunReports"}',
                                content_type="application/json")
        return web.Response(body=answers[0], content_type="application/json")

    def one_report(pid: str, body: Any) -> bytes:
        """One runReport answer, encoded: quota checked and charged."""
        if not isinstance(body, dict):
            raise bad("Invalid JSON payload received. Expected an object.")
        dims = {(d or {}).get("name") for d in (body.get("dimensions") or []) if isinstance(d, dict)}
        refused = simulator.quota.refusal(pid, bool(dims & THRESHOLD_DIMENSIONS))
        if refused:
            raise refused
        encoded, tokens, thresholded = simulator.reports.cached_report(pid, body)
        simulator.quota.charge(pid, tokens, thresholded)
        if normalize(body).get("returnPropertyQuota"):
            quota = json.dumps(simulator.quota.as_json(pid), separators=(",", ":")).encode()
            encoded = encoded[:-1] + b',"propertyQuota":' + quota + b"}"
        return encoded

    async def metadata(request: web.Request) -> web.StreamResponse:
        try:
            err = simulator.auth.check_token(request.headers.get("Authorization", ""))
            if err:
                raise err
            pid = _property(request.match_info["pid"], simulator.properties)
        except ApiError as exc:
            return exc.response()
        simulator.requests["metadata"] += 1
        return web.json_response(simulator.reports.metadata(pid))

    app.router.add_post(API + "/properties/{target}", property_call)
    app.router.add_get(API + "/properties/{pid}/metadata", metadata)
