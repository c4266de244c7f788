"""Attio's credentials: a workspace API key, sent as `Authorization: Bearer <key>`.

The sandbox's workspace has one key, API_KEY; another workspace (app.py, instances) has its own.
A request without the workspace's key is refused with Attio's 401 (api.py answers it, in Attio's
error body, before any route runs): another workspace's key reads nothing here, as at Attio.
"""
from __future__ import annotations

from aiohttp import web

API_KEY = "sandbox-attio-api-key"


def api_keys(key: str = API_KEY) -> set[str]:
    """The keys the workspace accepts (a fresh set on every load)."""
    return {key}


def bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def refusal(request: web.Request, keys: set[str]) -> tuple[str, str] | None:
    """Why Attio refuses the request's credentials, as (code, message); None when accepted."""
    token = bearer(request)
    if token in keys:
        return None
    return unauthorized(given=bool(token))


def unauthorized(given: bool = True) -> tuple[str, str]:
    """Attio's 401 (code, message): for a key it does not accept, or for no key at all."""
    if given:
        return "invalid_api_key", "The access token is invalid, expired or revoked."
    return "missing_authorization", "No access token was provided: send 'Authorization: Bearer <token>'."
