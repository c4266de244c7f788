"""Intuit's OAuth 2.0, as the sandbox plays it: credentials, rotating tokens, the token endpoint.

Credentials the sandbox accepts (the only place they are defined):
    client_id      sandbox-client-id
    client_secret  sandbox-client-secret
    realm_id       9130350000000001
    refresh token  sandbox-refresh-token-0   (initial; it rotates, see TokenStore)

Served (on oauth.platform.intuit.com / developer.intuit.com through the proxy, or the plain port):
    POST /oauth2/v1/tokens/bearer                       refresh_token grant, rotating tokens
    GET  /.well-known/openid_configuration/             Intuit's OpenID discovery document
    GET  /.well-known/openid_sandbox_configuration/     (the same, for intuit-oauth's sandbox environment)
    POST /v2/oauth2/tokens/revoke                       (developer.api.intuit.com) {"token": refresh or
                                                        access token}, Basic client auth: the app's
                                                        connection to the company ends, every token with it
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from ...clock import Clock

if TYPE_CHECKING:
    from . import Simulator

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
REALM_ID = "9130350000000001"
INITIAL_REFRESH_TOKEN = "sandbox-refresh-token-0"

ACCESS_TOKEN_TTL = 3600                  # 1 h, as Intuit
REFRESH_ROTATE_AFTER = 24 * 3600         # Intuit issues a new refresh token about daily
REFRESH_IDLE_LIMIT = 100 * 24 * 3600     # 100-day rolling validity
TOKENS_FILE = "quickbooks-refresh-tokens.json"  # in the state dir: rotated tokens survive a restart


class TokenStore:
    """Rotating refresh tokens and 1-hour access tokens, on the sandbox clock.

    The refresh tokens are kept in `saved_to` (the state dir) when given: Intuit remembers the
    token it rotated to, so a sandbox restarted after a rotation must still accept the token the
    client stored, not only the first one. Access tokens live for an hour and are not kept."""

    def __init__(self, clock: Clock, saved_to: Path | None = None,
                 initial_refresh_token: str = INITIAL_REFRESH_TOKEN) -> None:
        self.clock = clock
        self.saved_to = saved_to
        self.initial_refresh_token = initial_refresh_token   # another company's connection has its own
        self.reset()

    def reset(self) -> None:
        now = self.clock.now()
        self.refresh = {self.initial_refresh_token: {"issued": now, "used": now}}
        self.access: dict[str, dt.datetime] = {}
        self.access_ttl = ACCESS_TOKEN_TTL   # shortened by tests: an hour's expiry within one run
        self.serial = 0
        self.save()

    def save(self) -> None:
        if self.saved_to is None:
            return
        self.saved_to.parent.mkdir(parents=True, exist_ok=True)
        self.saved_to.write_text(json.dumps({"serial": self.serial, "refresh": {
            token: {k: t.isoformat() for k, t in info.items()} for token, info in self.refresh.items()}}))

    def restore(self) -> bool:
        """The refresh tokens a previous run of the sandbox saved, if any."""
        try:
            saved = json.loads(self.saved_to.read_text()) if self.saved_to else None
            refresh = {token: {k: dt.datetime.fromisoformat(t) for k, t in info.items()}
                       for token, info in saved["refresh"].items()}
            serial = int(saved["serial"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        self.refresh, self.serial = refresh, serial
        return True

    def current_refresh(self) -> str | None:
        return max(self.refresh, key=lambda k: self.refresh[k]["issued"], default=None)

    def age(self, by: dt.timedelta) -> None:
        for info in self.refresh.values():
            info["issued"] -= by
            info["used"] -= by
        self.access = {token: expiry - by for token, expiry in self.access.items()}
        self.save()

    def revoke(self) -> None:
        self.refresh.clear()
        self.access.clear()
        self.save()

    def expire_access(self) -> int:
        """Every access token issued so far expires now (refresh tokens stay good)."""
        now = self.clock.now()
        self.access = {token: min(expiry, now) for token, expiry in self.access.items()}
        return len(self.access)

    def exchange(self, token: str) -> dict:
        now = self.clock.now()
        info = self.refresh.get(token)
        if info is None or (now - info["used"]).total_seconds() > REFRESH_IDLE_LIMIT:
            if self.refresh.pop(token, None) is not None:
                self.save()
            raise PermissionError("invalid_grant")
        if (now - info["issued"]).total_seconds() >= REFRESH_ROTATE_AFTER:
            self.serial += 1
            del self.refresh[token]
            token = f"sandbox-refresh-token-{self.serial}-{secrets.token_hex(6)}"
            self.refresh[token] = {"issued": now, "used": now}
        else:
            info["used"] = now
        self.save()
        access = "sandbox-access-" + secrets.token_urlsafe(24)
        self.access[access] = now + dt.timedelta(seconds=self.access_ttl)
        remaining = REFRESH_IDLE_LIMIT - int((now - self.refresh[token]["used"]).total_seconds())
        return {"access_token": access, "token_type": "bearer", "refresh_token": token,
                "expires_in": self.access_ttl, "x_refresh_token_expires_in": remaining}

    def check_access(self, header: str | None) -> str | None:
        """None when valid, else the reason."""
        if not header or not header.lower().startswith("bearer "):
            return "No bearer token"
        exp = self.access.get(header[7:].strip())
        if exp is None:
            return "Token invalid"
        if self.clock.now() >= exp:
            return "Token expired"
        return None


def known_client(request: web.Request, cid: str | None = None, secret: str | None = None) -> bool:
    """The app's credentials, from HTTP Basic auth (what Intuit's clients send) or else the form's."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except Exception:  # noqa: BLE001 - malformed header is just a bad client
            return False
    return cid == CLIENT_ID and secret == CLIENT_SECRET


def add_routes(app: web.Application, simulator: "Simulator") -> None:
    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if not known_client(request, form.get("client_id"), form.get("client_secret")):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        # One app, several companies: the refresh token says which company's connection it is.
        refresh_token = form.get("refresh_token", "")
        company = next((c for c in simulator.companies.values() if refresh_token in c.tokens.refresh), simulator)
        try:
            return web.json_response(company.tokens.exchange(refresh_token))
        except PermissionError:
            return web.json_response({"error": "invalid_grant"}, status=400)

    async def discovery_document(request: web.Request) -> web.Response:
        """Intuit's OpenID discovery document (developer.intuit.com), which Intuit's OAuth client
        (intuit-oauth's AuthClient) reads before anything else, to find the token endpoint."""
        return web.json_response({
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": "https://appcenter.intuit.com/connect/oauth2",
            "token_endpoint": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
            "revocation_endpoint": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            "jwks_uri": "https://oauth.platform.intuit.com/op/v1/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"]})

    async def revoke(request: web.Request) -> web.Response:
        """Disconnecting the app, as Intuit's revocation endpoint does it: either token of the
        connection ends the whole connection (refresh and access tokens alike). A token the
        sandbox does not know is answered 200 too (RFC 7009: there is nothing left to revoke)."""
        if not known_client(request):
            return web.json_response({"error": "invalid_client"}, status=401)
        try:
            body = await request.json()
            token = body["token"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "invalid_request"}, status=400)
        for company in simulator.companies.values():
            if token in company.tokens.refresh or token in company.tokens.access:
                company.tokens.revoke()
        return web.Response(status=200)

    app.add_routes([web.post("/oauth2/v1/tokens/bearer", token),
                    web.post("/v2/oauth2/tokens/revoke", revoke),
                    web.get("/.well-known/openid_configuration/", discovery_document),
                    web.get("/.well-known/openid_sandbox_configuration/", discovery_document)])
