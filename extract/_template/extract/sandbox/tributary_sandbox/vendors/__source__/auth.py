"""__Source__'s credentials: one API token, sent as `Authorization: Bearer <token>`."""
from __future__ import annotations

from aiohttp import web

API_TOKEN = "sandbox-__source__-token"


def refusal(request: web.Request) -> str | None:
    """Why the request's credentials are refused (None: accepted), as the vendor says it."""
    auth = request.headers.get("Authorization", "")
    if auth == f"Bearer {API_TOKEN}":
        return None
    return "Invalid or missing API token." if auth else "Send the API token as 'Authorization: Bearer <token>'."
