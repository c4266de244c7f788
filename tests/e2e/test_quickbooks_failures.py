"""Every failure a user can meet ends with one clear message, a non-zero exit, no state
advanced and no secret in any log."""

from __future__ import annotations

import pytest

PIPELINE = ("run", "tap-quickbooks", "target-postgres")


@pytest.fixture(scope="module")
def loaded(stack):
    """A warehouse with one good run in it, and the state that run left."""
    stack.reset()
    result = stack.meltano(*PIPELINE)
    assert result.ok, result.output[-4000:]
    return stack.state()


def assert_clear_failure(result, *fragments: str) -> None:
    assert not result.ok, result.output[-3000:]
    assert "Traceback" not in result.output.split("ERROR:")[-1], "the last word must be our message"
    for fragment in fragments:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output[-3000:]}"


def test_missing_credential_names_the_variable(stack, loaded):
    result = stack.meltano(*PIPELINE, env={"TAP_QUICKBOOKS_CLIENT_SECRET": ""})
    assert_clear_failure(result, "missing client_secret", "TAP_QUICKBOOKS_CLIENT_SECRET")
    assert stack.state() == loaded


def test_wrong_client_secret_is_named(stack, loaded):
    result = stack.meltano(*PIPELINE, env={"TAP_QUICKBOOKS_CLIENT_SECRET": "not-the-secret"})
    assert_clear_failure(result, "invalid_client", "TAP_QUICKBOOKS_CLIENT_SECRET")
    assert stack.state() == loaded


def test_revoked_refresh_token_says_how_to_reconnect(stack, loaded):
    stack.sandbox("POST", "/_sandbox/quickbooks/revoke", {})
    try:
        result = stack.meltano(*PIPELINE)
        assert_clear_failure(result, "refused the refresh token", "TAP_QUICKBOOKS_REFRESH_TOKEN")
        assert stack.state() == loaded
    finally:
        stack.reset()  # the books stay as they were; tokens start over
        assert stack.meltano(*PIPELINE).ok


def test_unreachable_warehouse_is_named(stack, loaded):
    state_before = stack.state()
    result = stack.meltano(*PIPELINE, env={"TARGET_POSTGRES_PORT": "1"})
    assert_clear_failure(result, "Cannot reach the warehouse at 127.0.0.1:1", "make warehouse-start")
    assert stack.state() == state_before


def test_sandbox_not_running_is_named_at_once(stack, loaded):
    state_before = stack.state()
    result = stack.meltano(*PIPELINE, env={"TAP_QUICKBOOKS_HTTPS_PROXY": "http://127.0.0.1:9"}, timeout=60)
    assert_clear_failure(result, "sandbox is not running", "make sandbox-start")
    assert stack.state() == state_before


def test_no_secret_in_any_log(stack, loaded):
    """Runs last in this module: every Meltano output so far, and Meltano's log files."""
    secrets = {"sandbox-client-secret", "sandbox-refresh-token-0", "not-the-secret"}
    secrets.add(stack.sandbox("GET", "/_sandbox/quickbooks/tokens")["refresh_token"])
    logs = "\n".join(stack.outputs)
    for path in (stack.env_path("XDG_STATE_HOME")).rglob("*"):
        if path.is_file():
            logs += path.read_text(errors="replace")
    assert len(logs) > 10_000, "too little log to prove anything"
    for secret in secrets:
        assert secret not in logs, f"a secret ({secret[:4]}…) appears in the logs"
