"""For the taps' own test suites: run a tap in-process or through its command line, read its output.

Each tap's tests/runner.py builds its run_tap() and cli() from these (and adds the readings of
the output only its tests need); nothing here is imported when a tap runs.
"""
from __future__ import annotations

import collections
import io
import json
import socket
import subprocess
import sys
import time
import typing as t
from pathlib import Path


class Messages:
    """The Singer messages a tap wrote, one JSON line each."""

    def __init__(self, lines: list[str]) -> None:
        self.messages = [json.loads(line) for line in lines if line.strip()]

    def records(self, stream: str) -> list[dict]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def schema(self, stream: str) -> dict:
        return [m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream][-1]["schema"]

    def counts(self) -> collections.Counter:
        return collections.Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")

    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]


def assert_same_messages(fast: Messages, stock: Messages) -> None:
    """Two runs wrote the same messages in the same order (the one with `sdk_fast_path: false`
    through the SDK's stock record path), but for what only says when they ran: time_extracted,
    table versions and the SDK's replication_key_signpost (each a run's start)."""
    def when_free(value: t.Any) -> t.Any:  # noqa: ANN401
        if isinstance(value, dict):
            return {k: when_free(v) for k, v in value.items() if k != "replication_key_signpost"}
        return [when_free(v) for v in value] if isinstance(value, list) else value

    def comparable(messages: Messages) -> list[dict]:
        return [when_free(m) if m["type"] == "STATE" else
                {k: v for k, v in m.items() if k not in ("time_extracted", "version")} for m in messages.messages]
    fast_messages, stock_messages = comparable(fast), comparable(stock)
    assert len(fast_messages) == len(stock_messages), (len(fast_messages), len(stock_messages))
    for n, (one, other) in enumerate(zip(fast_messages, stock_messages)):
        assert one == other, f"message {n} differs:\n{one}\n{other}"


def compare_record_paths(run_tap: t.Callable[..., Messages], config: dict, **kwargs: t.Any) -> tuple[Messages, t.Any]:
    """`run_tap(config, tap_out=…, **kwargs)` twice, with `sdk_fast_path` true then false; asserts
    both wrote the same messages and the second took the SDK's stock path for every stream.
    Returns the fast run's messages and its tap (to check which streams took the shortcuts)."""
    taps: list = []
    fast = run_tap(config, tap_out=taps, **kwargs)
    stock = run_tap({**config, "sdk_fast_path": False}, tap_out=taps, **kwargs)
    assert_same_messages(fast, stock)
    assert not any(stream.deselected_columns is not None for stream in taps[1].streams.values())
    return fast, taps[0]


def select_all(catalog: dict, only: set[str] | None = None) -> dict:
    """Mark every stream of `catalog` selected (or only those in `only`), in place."""
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = only is None or entry["tap_stream_id"] in only
    return catalog


def sync_lines(tap: t.Any, tap_out: list | None = None,  # noqa: ANN401
               raise_errors: bool = True) -> tuple[list[str], Exception | None]:
    """`tap.sync_all()` with its stdout captured: the lines it wrote, and the error that stopped
    it (None when it finished; raised instead, once stdout is back, with `raise_errors`).
    In-process, so tests can patch the tap, and inspect it afterwards: `tap_out` gets it."""
    if tap_out is not None:
        tap_out.append(tap)
    buf = io.BytesIO()
    real = sys.stdout
    wrapper = io.TextIOWrapper(buf, encoding="utf-8")
    sys.stdout = wrapper
    error = None
    try:
        tap.sync_all()
    except Exception as exc:  # noqa: BLE001  - handed to the caller, with what was written before it
        error = exc
    finally:
        wrapper.flush()
        data = buf.getvalue()
        sys.stdout = real
        wrapper.detach()
    if error is not None and raise_errors:
        raise error
    return data.decode().splitlines(), error


def run_cli(executable: str, args: list[str], config: dict, tmp: Path, stdin: str | None = None,
            timeout: float = 300, module: str | None = None) -> subprocess.CompletedProcess:
    """The tap's command line as Meltano runs it (`<executable> --config <file> …`), from the
    same virtualenv as the tests; `python -m <module>` when the executable is not installed there
    (a tap just made from the template, tested before it is installed)."""
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps(config))
    exe = Path(sys.executable).with_name(executable)
    command = [sys.executable, "-m", module] if module and not exe.exists() else [str(exe)]
    return subprocess.run([*command, "--config", str(cfg), *args], capture_output=True, text=True,
                          timeout=timeout, input=stdin)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): an API URL that refuses connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_fails_fast_naming(run: t.Callable[[], subprocess.CompletedProcess], line: str,
                             within_s: float = 10) -> None:
    """`run()` fails saying `line`, within `within_s` seconds: a wrong API URL is named at once,
    never retried for minutes."""
    started = time.monotonic()
    done = run()
    elapsed = time.monotonic() - started
    assert_failed_naming(done, line)
    assert elapsed < within_s, f"took {elapsed:.1f} s: a wrong URL must not be retried for minutes"


def assert_failed_naming(done: subprocess.CompletedProcess, line: str) -> None:
    """The command failed, saying `line` on stderr and with no traceback: one clear line, as every
    user-facing failure of ours."""
    assert done.returncode != 0, done.stderr[-2000:]
    assert line in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
