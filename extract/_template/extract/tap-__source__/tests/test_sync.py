"""Paging, the bookmark, retries and a refused token, against the simulator over real HTTP."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from tap___source__ import client
from tap___source__.tap import Tap__Source__


def sync(config: dict, state: dict | None = None) -> list[dict]:
    """Run the tap in-process; its Singer messages, parsed."""
    tap = Tap__Source__(config=config, state=state)
    buffer = io.StringIO()
    real, sys.stdout = sys.stdout, buffer
    try:
        tap.sync_all()
    finally:
        sys.stdout = real
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def records(messages: list[dict]) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def last_state(messages: list[dict]) -> dict:
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]


def test_every_record_arrives_once_across_pages(sandbox):
    messages = sync(sandbox.config(page_size=7))
    got = records(messages)
    assert sorted(r["id"] for r in got) == sorted(sandbox.state.customers.records)
    assert len(got) > 7 * 3   # really paged


def test_the_next_run_reads_only_what_changed(sandbox):
    first = sync(sandbox.config())
    changed = sandbox.call(sandbox.state.mutate, update=2, create=1)
    second = records(sync(sandbox.config(), state=last_state(first)))
    ids = {r["id"] for r in second}
    assert set(changed["updated"] + changed["created"]) <= ids
    assert len(ids) <= 3 + 1   # the changes, and at most the boundary record (updated_since is inclusive)


def test_a_server_error_is_retried(sandbox, monkeypatch):
    monkeypatch.setattr(client.__Source__Stream, "backoff_base_seconds", 0.01)
    sandbox.faults({"vendor": "__source__", "kind": "status", "status": 503, "count": 2})
    assert len(records(sync(sandbox.config()))) == len(sandbox.state.customers.records)


def test_a_refused_token_is_one_line_naming_the_setting(sandbox, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox.config(api_token="not-the-token")))
    executable = Path(sys.executable).with_name("tap-__source__")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "tap___source__.tap"]
    result = subprocess.run([*command, "--config", str(config)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "TAP___SOURCE___API_TOKEN" in result.stderr
    assert "not-the-token" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
