"""GA4's credentials: the sandbox's service account, the OAuth client, and the access tokens they get.

A sandbox service-account key (RSA 2048, made at the first start and kept in the state dir's
ga4-service-account.json across restarts; also GET /_sandbox/ga4/service-account-key) whose
`token_uri` points at `/ga4/token`; the JWT's RS256 signature is verified against that key's
public key, `iss` must be its client_email, `aud` its token_uri, exp-iat <= 1 h. OAuth client:
    client_id     OAUTH_CLIENT_ID      = "1093-tributary-sandbox.apps.googleusercontent.com"
    client_secret OAUTH_CLIENT_SECRET  = "GOCSPX-tributary-sandbox-secret"
    refresh_token OAUTH_REFRESH_TOKEN  = "1//tributary-sandbox-ga4-refresh-token"
Access tokens live 3600 s of sandbox clock, then 401 UNAUTHENTICATED. POST /_sandbox/ga4/token
mints one directly (for the `access_token` setting).

    POST /ga4/token    OAuth 2 token endpoint (service-account JWT bearer grant, refresh-token grant)
"""
from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import json
import secrets
import time
from pathlib import Path
from typing import Callable

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import API_PATH
from .reports import ApiError

TOKEN_PATH = f"{API_PATH}/token"
SCOPES_OK = ("https://www.googleapis.com/auth/analytics.readonly", "https://www.googleapis.com/auth/analytics")
OAUTH_CLIENT_ID = "1093-tributary-sandbox.apps.googleusercontent.com"
OAUTH_CLIENT_SECRET = "GOCSPX-tributary-sandbox-secret"
OAUTH_REFRESH_TOKEN = "1//tributary-sandbox-ga4-refresh-token"
SERVICE_ACCOUNT_EMAIL = "tap-ga4@tributary-sandbox.iam.gserviceaccount.com"
PROJECT_ID = "tributary-sandbox"
TOKEN_TTL = 3600
NO_PROPERTY_ACCESS = ("User does not have sufficient permissions for this property. To learn more about Property "
                      "ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.")
UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                   "cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# Every access token issued in this process, by the business whose credentials got it. Google has one
# token service: another business's token (app.py, instances) is a valid credential here, without
# access to this business's properties (403, as Google answers), not an unknown one (401).
ISSUED: dict[str, "Auth"] = {}


class Auth:
    """The service account's signing key, and the access tokens issued (`tokens`). `requests`
    counts token exchanges and self-signed JWTs seen (the Simulator's request counter)."""

    def __init__(self, now: Callable[[], dt.datetime], requests: collections.Counter,
                 key_path: Path | None = None) -> None:
        self.now = now
        self.requests = requests
        self.key_path = key_path
        self._signing_key = None
        self.tokens: dict[str, dict] = {}

    # -- service account ----------------------------------------------------------------------------
    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        if self._signing_key is None:
            if self.key_path and self.key_path.exists():   # keep the key across restarts
                try:
                    pem = json.loads(self.key_path.read_text())["private_key"].encode()
                    self._signing_key = serialization.load_pem_private_key(pem, password=None)
                except (ValueError, KeyError, OSError):
                    self._signing_key = None
            if self._signing_key is None:
                self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._signing_key

    @property
    def private_key_id(self) -> str:
        der = self.signing_key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha1(der).hexdigest()

    def service_account_key(self, base_url: str) -> dict:
        """The key file a GCP console would download, its token_uri pointing at this sandbox."""
        pem = self.signing_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        base = base_url.rstrip("/")
        return {"type": "service_account", "project_id": PROJECT_ID, "private_key_id": self.private_key_id,
                "private_key": pem, "client_email": SERVICE_ACCOUNT_EMAIL, "client_id": "109876543210987654321",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": base + TOKEN_PATH,
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "universe_domain": "googleapis.com"}

    def write_service_account_key(self, path: str | Path, base_url: str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.service_account_key(base_url), indent=2))
        path.chmod(0o600)
        return path

    # -- tokens ---------------------------------------------------------------------------------------
    def issue_token(self, scope: str, via: str) -> dict:
        token = "ya29.sandbox-" + secrets.token_urlsafe(32)
        ISSUED[token] = self
        self.tokens[token] = {"expires": self.now() + dt.timedelta(seconds=TOKEN_TTL), "scope": scope, "via": via}
        return {"access_token": token, "expires_in": TOKEN_TTL - 1, "token_type": "Bearer", "scope": scope}

    def exchange(self, form: dict) -> tuple[int, dict]:
        grant = form.get("grant_type")
        self.requests["token"] += 1
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            if form.get("client_id") != OAUTH_CLIENT_ID or form.get("client_secret") != OAUTH_CLIENT_SECRET:
                return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
            if form.get("refresh_token") != OAUTH_REFRESH_TOKEN:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 200, self.issue_token(SCOPES_OK[0], "refresh_token")
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}

    def _jwt_grant(self, assertion: str) -> tuple[int, dict]:
        claims, refusal = self._verified_jwt(assertion)
        if refusal:
            return 400, {"error": "invalid_grant", "error_description": refusal}
        aud = str(claims.get("aud", ""))
        if not (aud.endswith(TOKEN_PATH) or aud == "https://oauth2.googleapis.com/token"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: audience must be the token_uri."}
        scope = str(claims.get("scope", ""))
        if not scope:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: no scope."}   # Google: invalid_scope
        return 200, self.issue_token(scope, "service_account")

    def _verified_jwt(self, assertion: str) -> tuple[dict, str]:
        """A JWT signed with the service account's key: its claims, or why it is refused."""
        parts = assertion.split(".")
        if len(parts) != 3:
            return {}, "Invalid JWT: not a JWS compact serialisation."
        try:
            header, claims = (json.loads(_b64d(p)) for p in parts[:2])
            signature = _b64d(parts[2])
        except (ValueError, TypeError):
            return {}, "Invalid JWT: undecodable header or claims."
        if header.get("alg") != "RS256":
            return {}, "Invalid JWT: algorithm must be RS256."
        if header.get("kid") not in (None, self.private_key_id):
            return {}, "Invalid JWT Signature."
        try:
            self.signing_key.public_key().verify(signature, f"{parts[0]}.{parts[1]}".encode(),
                                                 padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return {}, "Invalid JWT Signature."
        if claims.get("iss") != SERVICE_ACCOUNT_EMAIL:
            return {}, "Invalid email or User ID"
        now = time.time()   # the JWT is signed with the client's wall clock, not the sandbox clock
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            return {}, "Invalid JWT: iat and exp are required."
        if exp - iat > 3600 or exp < now - 60 or iat > now + 300:
            return {}, ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                        "timeframe. Check your iat and exp values in the JWT claim.")
        return claims, ""

    def _self_signed_scope(self, token: str) -> str | None:
        """Google's "service account authorization without OAuth": a JWT the client signed itself,
        sent as the bearer token, naming the API (`aud` https://analyticsdata.googleapis.com/) or
        the scopes (`scope`). What Google's own client libraries send by default. Its scope, or None."""
        if token.count(".") != 2:
            return None
        claims, refusal = self._verified_jwt(token)
        if refusal or claims.get("sub", claims.get("iss")) != SERVICE_ACCOUNT_EMAIL:
            return None
        aud = claims.get("aud")
        if aud is None:   # scopes named instead of the API
            return str(claims.get("scope", "")) or None
        return SCOPES_OK[0] if str(aud).rstrip("/") == "https://analyticsdata.googleapis.com" else None

    def clear_tokens(self) -> None:
        for token in self.tokens:
            ISSUED.pop(token, None)
        self.tokens.clear()

    def expire_tokens(self) -> int:
        """Every issued access token expires now (clients must fetch a new one)."""
        for info in self.tokens.values():
            info["expires"] = self.now()
        return len(self.tokens)

    def check_token(self, header: str) -> ApiError | None:
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        info = self.tokens.get(token) if token else None
        issuer = ISSUED.get(token) if token and info is None else None
        if issuer is not None and token in issuer.tokens and issuer.tokens[token]["expires"] > self.now():
            return ApiError(403, "PERMISSION_DENIED", NO_PROPERTY_ACCESS)   # another business's account
        if info is None and token and (scope := self._self_signed_scope(token)) is not None:
            self.requests["self_signed_jwt"] += 1
            info = {"expires": self.now() + dt.timedelta(seconds=1), "scope": scope, "via": "self_signed_jwt"}
        if info is None or info["expires"] <= self.now():
            return ApiError(401, "UNAUTHENTICATED", UNAUTHENTICATED)
        if not any(s in info["scope"].split() for s in SCOPES_OK):
            return ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        return None


def add_routes(app: web.Application, simulator) -> None:
    """POST /ga4/token, where a tap trades its service account's JWT or its refresh token."""

    async def token(request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
        status, body = simulator.auth.exchange({k: str(v) for k, v in form.items()})
        return web.json_response(body, status=status)

    app.router.add_post(TOKEN_PATH, token)
