"""Attio authentication: a workspace access token (or OAuth token) sent as a bearer token."""
from __future__ import annotations

from singer_sdk.authenticators import BearerTokenAuthenticator

API_KEY_HINT = (
    "check TAP_ATTIO_API_KEY (Attio → Workspace settings → Developers → Access tokens; "
    "the token needs read scopes for records, objects, lists, notes, tasks and users)"
)


def attio_authenticator(api_key: str) -> BearerTokenAuthenticator:
    return BearerTokenAuthenticator(token=api_key)
