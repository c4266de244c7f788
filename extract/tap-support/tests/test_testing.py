"""The test helpers the taps' suites share: stdout captured around a sync, streams selected."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import sys

import pytest

from tributary_tap_support.testing import (Messages, assert_failed_naming, assert_fails_fast_naming,
                                          assert_same_messages, closed_port, run_cli, select_all, sync_lines)


class FakeTap:
    """Writes Singer lines the way our taps do (bytes to sys.stdout.buffer), then maybe fails."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def sync_all(self) -> None:
        for message in ({"type": "SCHEMA", "stream": "s", "schema": {"type": "object"}},
                        {"type": "RECORD", "stream": "s", "record": {"id": 1}},
                        {"type": "STATE", "value": {"bookmarks": {}}}):
            sys.stdout.buffer.write(json.dumps(message).encode() + b"\n")
        if self.fail:
            raise RuntimeError("stopped")


def test_sync_lines_captures_what_was_written_and_the_error_that_stopped_it():
    real = sys.stdout
    lines, error = sync_lines(FakeTap(fail=False))
    assert error is None and sys.stdout is real
    out = Messages(lines)
    assert out.records("s") == [{"id": 1}] and out.counts() == {"s": 1}
    assert out.schema("s") == {"type": "object"} and out.states() == [{"bookmarks": {}}]
    lines, error = sync_lines(FakeTap(fail=True), raise_errors=False)
    assert str(error) == "stopped" and len(lines) == 3 and sys.stdout is real
    tap_out: list = []
    with pytest.raises(RuntimeError, match="stopped"):
        sync_lines(FakeTap(fail=True), tap_out)
    assert sys.stdout is real and isinstance(tap_out[0], FakeTap)


def test_select_all_selects_every_stream_or_only_those_asked():
    def catalog() -> dict:
        return {"streams": [{"tap_stream_id": name, "metadata": [{"breadcrumb": [], "metadata": {}},
                                                                 {"breadcrumb": ["properties", "id"], "metadata": {}}]}
                            for name in ("a", "b")]}
    selected = [e["metadata"][0]["metadata"]["selected"] for e in select_all(catalog())["streams"]]
    assert selected == [True, True]
    selected = [e["metadata"][0]["metadata"]["selected"] for e in select_all(catalog(), {"b"})["streams"]]
    assert selected == [False, True]


def test_a_closed_port_refuses_connections():
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", closed_port()))


def test_a_failure_counts_only_as_one_line_naming_its_cause():
    def done(code: int, stderr: str) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess([], code, "", stderr)
    assert_failed_naming(done(1, "log\nX=1 is wrong: set X\n"), "X=1 is wrong")
    for bad in (done(0, "X=1 is wrong"), done(1, "something else"),
                done(1, "Traceback (most recent call last):\nX=1 is wrong")):
        with pytest.raises(AssertionError):
            assert_failed_naming(bad, "X=1 is wrong")


def test_a_fast_failure_counts_only_within_its_time():
    def failing(delay: float):
        def run() -> subprocess.CompletedProcess:
            time.sleep(delay)
            return subprocess.CompletedProcess([], 1, "", "X=1 is wrong: set X\n")
        return run
    assert_fails_fast_naming(failing(0), "X=1 is wrong", within_s=1)
    with pytest.raises(AssertionError, match="must not be retried"):
        assert_fails_fast_naming(failing(0.2), "X=1 is wrong", within_s=0.1)


def test_two_runs_agree_but_for_when_they_ran():
    def run(at: str, name: str = "Ada") -> Messages:
        return Messages([json.dumps(m) for m in (
            {"type": "RECORD", "stream": "s", "record": {"id": 1, "name": name}, "version": at, "time_extracted": at},
            {"type": "STATE", "value": {"bookmarks": {"s": {"replication_key_signpost": at, "replication_key_value": 1}}}},
            {"type": "ACTIVATE_VERSION", "stream": "s", "version": at})])
    assert_same_messages(run("09:00"), run("09:01"))
    with pytest.raises(AssertionError, match="message 0 differs"):
        assert_same_messages(run("09:00"), run("09:00", name="Grace"))


def test_a_tap_not_installed_yet_runs_as_a_module(tmp_path):
    done = run_cli("tap-toy", ["--about", "--format", "json"], {"api_key": "k"}, tmp_path, module="tests.toy_tap")
    assert done.returncode == 0 and json.loads(done.stdout)["name"] == "tap-toy", done.stderr[-2000:]
