"""Shopify's credentials, as the sandbox's shop issues and checks them.

Two ways in, as with a real shop's custom app:
  * ACCESS_TOKEN, an Admin API token (shpat_...) that never expires;
  * client credentials: POST /shopify/admin/oauth/access_token with CLIENT_ID / CLIENT_SECRET
    (grant_type=client_credentials, form or JSON) -> an access token valid 24 h of sandbox clock
    (expires_in 86399).
Either goes in the X-Shopify-Access-Token header; an expired or unknown token answers 401 with
Shopify's body (INVALID_TOKEN_BODY).
"""
from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from aiohttp import web

from ...clock import Clock
from . import API_PATH

if TYPE_CHECKING:
    from . import Simulator

ACCESS_TOKEN = "shpat_tributary_sandbox_token"          # a custom app's Admin API token (never expires)
CLIENT_ID = "tributary-sandbox-shopify-client-id"
CLIENT_SECRET = "tributary-sandbox-shopify-client-secret"
TOKEN_TTL = 86399                                       # Shopify: client-credentials tokens live 24 h
SCOPES = "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations"
INVALID_TOKEN_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


class Tokens:
    """The access tokens the client-credentials grant issued, and when each expires."""

    def __init__(self, clock: Clock, access_token: str = ACCESS_TOKEN) -> None:
        self.clock = clock
        self.access_token = access_token   # the shop's Admin API token (another shop has its own)
        self.expiry: dict[str, dt.datetime] = {}

    def ok(self, token: str | None) -> bool:
        if token == self.access_token:
            return True
        exp = self.expiry.get(token or "")
        return exp is not None and exp > self.clock.now()

    def issue(self) -> dict:
        token = "shpat_cc_" + secrets.token_hex(16)
        self.expiry[token] = self.clock.now() + dt.timedelta(seconds=TOKEN_TTL)
        return {"access_token": token, "scope": SCOPES, "expires_in": TOKEN_TTL}

    def expire(self) -> int:
        """Expire every issued token (the Admin API token never expires); how many there were."""
        n = len(self.expiry)
        for t in self.expiry:
            self.expiry[t] = self.clock.now() - dt.timedelta(seconds=1)
        return n


def add_routes(app: web.Application, simulator: "Simulator") -> None:
    """The client-credentials token endpoint."""

    async def access_token(request: web.Request) -> web.Response:
        simulator.requests["token"] += 1
        if request.content_type == "application/json":
            try:
                form = await request.json()
            except ValueError:
                form = {}
        else:
            form = dict(await request.post())
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type",
                                      "error_description": "grant_type must be client_credentials"}, status=400)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client",
                                      "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."},
                                     status=401)
        return web.json_response(simulator.tokens.issue())

    app.router.add_post(API_PATH + "/admin/oauth/access_token", access_token)
