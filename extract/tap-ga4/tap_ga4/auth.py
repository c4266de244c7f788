"""GA4 credentials: a service-account key (signed JWT), an OAuth refresh token, or a bare access token.

All three end as `Authorization: Bearer <access token>`. Tokens are fetched lazily, reused until a
minute before they expire, and dropped by `invalidate()` when the API answers 401 so the next try
fetches a fresh one (the sandbox, like Google, expires them after an hour).
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
import typing as t

import requests
from singer_sdk.exceptions import FatalAPIError

SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

HINTS = {
    "service_account": "check service_account_key (TAP_GA4_SERVICE_ACCOUNT_KEY: the key file's path or its JSON; "
                       "the service account's e-mail needs Viewer access on every property in property_ids)",
    "oauth": "check oauth_client_id, oauth_client_secret and oauth_refresh_token (TAP_GA4_OAUTH_*; the refresh "
             "token must carry the analytics.readonly scope)",
    "access_token": "check access_token (TAP_GA4_ACCESS_TOKEN; access tokens expire after an hour: prefer "
                    "service_account_key or the oauth_* settings)",
}


class GA4AuthError(FatalAPIError):
    """Credentials refused (token endpoint, 401 or 403). Not retried: a setting has to be fixed."""


class GA4ConfigError(FatalAPIError):
    """A setting is missing or wrong (reports, property ids, auth choice)."""


def auth_mode(config: t.Mapping) -> str:
    """Which credentials the config carries; exactly one kind must be set."""
    kinds = []
    if config.get("service_account_key"):
        kinds.append("service_account")
    if any(config.get(k) for k in ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token")):
        kinds.append("oauth")
    if config.get("access_token"):
        kinds.append("access_token")
    if len(kinds) != 1:
        found = ", ".join(kinds) if kinds else "none"
        raise GA4ConfigError(
            "Set exactly one way to authenticate: service_account_key, or oauth_client_id + oauth_client_secret + "
            f"oauth_refresh_token, or access_token (found: {found}).")
    if kinds[0] == "oauth":
        missing = [k for k in ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token") if not config.get(k)]
        if missing:
            raise GA4ConfigError(f"OAuth authentication needs {', '.join(missing)} as well.")
    return kinds[0]


def load_service_account_key(value: t.Any) -> dict:
    """The key as JSON text, a dict, or a path to the key file."""
    if isinstance(value, dict):
        key = value
    else:
        text = str(value).strip()
        if not text.startswith("{"):
            path = os.path.expanduser(text)
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise GA4ConfigError(f"service_account_key: cannot read key file {path!r} ({exc.strerror}); "
                                     "give the path of the JSON key file or the JSON itself.") from None
        try:
            key = json.loads(text)
        except ValueError:
            raise GA4ConfigError("service_account_key is neither a readable file nor valid JSON.") from None
    missing = [k for k in ("client_email", "private_key") if not key.get(k)]
    if missing:
        raise GA4ConfigError(f"service_account_key lacks {', '.join(missing)}: use the JSON key file "
                             "downloaded for the service account (type service_account).")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_jwt(key: dict, scope: str = SCOPE, now: float | None = None) -> str:
    """An RS256 JWT for Google's jwt-bearer grant, signed with the key's private key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    now = int(now if now is not None else time.time())
    header = {"alg": "RS256", "typ": "JWT"}
    if key.get("private_key_id"):
        header["kid"] = key["private_key_id"]
    claims = {"iss": key["client_email"], "scope": scope, "aud": key.get("token_uri") or GOOGLE_TOKEN_URI,
              "iat": now, "exp": now + 3600}
    signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}." \
                    f"{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    try:
        private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise GA4ConfigError("service_account_key: private_key is not a PEM RSA private key.") from None
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


class GA4Credentials:
    """A requests auth callable holding one access token for the whole tap."""

    def __init__(self, config: t.Mapping, session: requests.Session | None = None) -> None:
        self.mode = auth_mode(config)
        self.config = config
        self.session = session or requests.Session()
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.fetches = 0
        if self.mode == "service_account":
            self.key = load_service_account_key(config["service_account_key"])
            self.token_uri = self.key.get("token_uri") or GOOGLE_TOKEN_URI
        elif self.mode == "oauth":
            self.token_uri = config.get("oauth_token_uri") or GOOGLE_TOKEN_URI
        else:
            self.token_uri = None
            self._token, self._expires = str(config["access_token"]), float("inf")

    @property
    def hint(self) -> str:
        return HINTS[self.mode]

    @property
    def can_refresh(self) -> bool:
        return self.mode != "access_token"

    def invalidate(self) -> None:
        if self.can_refresh:
            self._token, self._expires = None, 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() >= self._expires - 60:
                self._fetch()
            return self._token  # type: ignore[return-value]

    def _fetch(self) -> None:
        if self.mode == "service_account":
            form = {"grant_type": JWT_GRANT, "assertion": signed_jwt(self.key)}
        else:
            form = {"grant_type": "refresh_token", "client_id": self.config["oauth_client_id"],
                    "client_secret": self.config["oauth_client_secret"],
                    "refresh_token": self.config["oauth_refresh_token"]}
        last: Exception | None = None
        for attempt in range(5):   # the token endpoint can blip like any other
            try:
                resp = self.session.post(self.token_uri, data=form, timeout=60)
            except requests.RequestException as exc:
                last = exc
                time.sleep(min(8, 0.5 * 2 ** attempt))
                continue
            if resp.status_code >= 500 or resp.status_code == 429:
                last = RuntimeError(f"{resp.status_code} {resp.text[:200]}")
                time.sleep(min(8, 0.5 * 2 ** attempt))
                continue
            try:
                body = resp.json()
            except ValueError:
                body = {}
            if resp.status_code != 200 or "access_token" not in body:
                what = body.get("error") or resp.status_code
                desc = body.get("error_description") or resp.text[:200]
                raise GA4AuthError(f"The token endpoint {self.token_uri} refused the credentials "
                                   f"({what}: {desc}): {self.hint}.")
            self._token = body["access_token"]
            self._expires = time.time() + float(body.get("expires_in", 3600))
            self.fetches += 1
            return
        raise GA4AuthError(f"The token endpoint {self.token_uri} could not be reached ({last}).")

    def __call__(self, request):  # noqa: ANN001, ANN204 - requests auth protocol
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request
