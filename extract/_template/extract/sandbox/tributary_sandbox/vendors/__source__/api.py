"""__Source__'s API, under /__source__/v1:

    GET /customers?updated_since=<ISO 8601>&limit=<1..100, default 100>&cursor=<opaque>
        → {"data": [customer, …], "next_cursor": "<opaque>" | null}
          oldest updated_at first (ties by id); updated_since is inclusive
    401 {"error": {"type": "unauthorized", "message": …}}     no or wrong token
    400 {"error": {"type": "invalid_request", "message": …}}  a bad parameter

Replace the paths, parameters, page size limit, paging and error bodies with your vendor's.
"""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from aiohttp import web

from . import API_PATH, auth
from .data import parse_stamp

if TYPE_CHECKING:
    from . import Simulator

PAGE_MAX = 100


def error(status: int, type_: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": type_, "message": message}}, status=status)


def page(simulator: "Simulator", since: str | None, cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
    """Keyset paging on (updated_at, id): stable even while records change between pages."""
    customers = simulator.customers
    rows, _ = customers.in_api_order()
    start = customers.since(since)
    if cursor:
        after = tuple(base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1))
        start = max(start, customers.after(after))
    found = rows[start:start + limit]
    more = start + limit < len(rows)
    next_cursor = (base64.urlsafe_b64encode(f"{found[-1]['updated_at']}|{found[-1]['id']}".encode()).decode()
                   if more and found else None)
    return found, next_cursor


def add_routes(app: web.Application, simulator: "Simulator") -> None:
    async def customers(request: web.Request) -> web.Response:
        refused = auth.refusal(request)
        if refused:
            return error(401, "unauthorized", refused)
        query = request.query
        try:
            limit = int(query.get("limit", PAGE_MAX))
            if not 1 <= limit <= PAGE_MAX:
                raise ValueError(f"limit must be between 1 and {PAGE_MAX}")
            if query.get("updated_since"):
                parse_stamp(query["updated_since"])
            found, next_cursor = page(simulator, query.get("updated_since"), query.get("cursor"), limit)
        except (ValueError, UnicodeDecodeError) as exc:
            return error(400, "invalid_request", str(exc))
        return web.json_response({"data": found, "next_cursor": next_cursor})

    app.router.add_get(API_PATH + "/customers", customers)
