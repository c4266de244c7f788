"""No secret in any log: the dev environment's credentials (and the wrong ones tests inject)
must never appear in Meltano's output, its log files or dbt's log."""

from __future__ import annotations

import json
import time


DEV_SECRETS = {  # meltano.yml's dev environment: fake, but handled exactly like real ones
    "sandbox-client-secret", "sandbox-refresh-token-0", "sandbox-attio-api-key", "shpat_tributary_sandbox_token",
    "tributary-dev", "tributary-loader-dev", "tributary-transformer-dev", "tributary-analyst-dev",
}


class LogWatch:
    """Everything logged from now on: the stack's Meltano outputs and the log files written meanwhile."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.first_output = len(stack.outputs)
        self.since = time.time()

    def text(self) -> str:
        parts = list(self.stack.outputs[self.first_output:])
        for folder in (self.stack.env_path("XDG_STATE_HOME"), self.stack.env_path("DBT_LOG_PATH")):
            for path in folder.rglob("*"):
                if path.is_file() and path.stat().st_mtime >= self.since:
                    parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def assert_no_secret(self, *also: str) -> None:
        stack = self.stack
        secrets = DEV_SECRETS | {s for s in also if s}
        secrets.add(stack.sandbox("GET", "/_sandbox/quickbooks/tokens")["refresh_token"])
        key_file = stack.env_path("TAP_GA4_SERVICE_ACCOUNT_KEY")
        if key_file.is_file():  # a line from the middle of the GA4 service account's private key
            secrets.add(json.loads(key_file.read_text())["private_key"].splitlines()[5])
        logs = self.text()
        assert len(logs) > 10_000, "too little log to prove anything"
        leaked = [secret[:4] + "…" for secret in secrets if secret in logs]
        assert not leaked, f"secrets in the logs: {leaked}"
