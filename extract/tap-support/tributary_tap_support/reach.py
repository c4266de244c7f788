"""First contact with an API: a URL setting that points at nothing is named at once.

A refused connection or an unknown host before the API has ever answered in this run means the
URL setting is wrong (or the service is not there at all): retrying it for minutes only hides
that. So it is tried QUICK_TRIES times, a second apart, and then raised as Unreachable, whose
message names the setting to check. Once the API has answered, the same error is an outage and
gets the tap's usual long retries, as do timeouts and connections dropped mid-answer at any time.

Needs singer_sdk (Unreachable is a FatalAPIError: the SDK never retries it, TributaryTap.main
says it in one line).
"""
from __future__ import annotations

import socket
import time
import typing as t

import requests
from singer_sdk.exceptions import FatalAPIError

QUICK_TRIES = 3
_answered: set[str] = set()   # base URLs that answered in this process


def sleep(seconds: float) -> None:  # patched by tests
    time.sleep(seconds)


class Unreachable(FatalAPIError):
    """Nothing listens at the API URL, or its host does not exist: a setting has to be fixed."""


def unreachable_error(api: str, fix: str) -> t.Callable[[str, str], Unreachable]:
    """What `reach` raises for `api` ("Attio API"): the URL, why, and `fix` (what to check)."""
    return lambda base_url, reason: Unreachable(f"cannot reach the {api} at {base_url} ({reason}): {fix}")


def url_setting_fix(plugin: str, setting: str = "api_url", default: str | None = None) -> str:
    """`check TAP_ATTIO_API_URL (default https://api.attio.com/v2)`: the variable Meltano reads
    the URL setting from, and the URL used when it is unset."""
    variable = f"{plugin.upper().replace('-', '_')}_{setting.upper()}"
    return f"check {variable}" + (f" (default {default})" if default else "")


def unreachable_reason(exc: BaseException) -> str | None:
    """'connection refused' or 'host not found' when `exc` says so; None for any other failure."""
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.Timeout):
        return None
    seen: list[BaseException] = []
    pending: list[object] = [exc]
    while pending:   # requests → urllib3's MaxRetryError → NewConnectionError → the socket error
        err = pending.pop()
        if not isinstance(err, BaseException) or err in seen:
            continue
        seen.append(err)
        if isinstance(err, ConnectionRefusedError):
            return "connection refused"
        if isinstance(err, socket.gaierror) or type(err).__name__ == "NameResolutionError":
            return "host not found"
        pending += [*err.args, getattr(err, "reason", None), err.__cause__, err.__context__]
    return None


def reach(send: t.Callable[[], requests.Response], base_url: str,
          unreachable: t.Callable[[str, str], BaseException]) -> requests.Response:
    """`send()`, with a refused connection or an unknown host at first contact named at once.

    `unreachable(base_url, reason)` builds the error (unreachable_error), whose message names the
    setting to fix, e.g. "cannot reach the Attio API at <url> (connection refused): check TAP_ATTIO_API_URL".
    """
    for attempt in range(1, QUICK_TRIES + 1):
        try:
            response = send()
        except requests.ConnectionError as exc:
            reason = unreachable_reason(exc)
            if reason is None or base_url in _answered:
                raise   # an outage, a timeout or a dropped connection: the usual retries
            if attempt == QUICK_TRIES:
                raise unreachable(base_url, reason) from None
            sleep(1.0)
            continue
        _answered.add(base_url)
        return response
    raise AssertionError("unreachable")
