"""Paging, the bookmark, retries and a refused token, against the simulator over real HTTP."""
from __future__ import annotations

from tap___source__ import client
from tests.runner import cli, run_tap
from tributary_tap_support.testing import assert_failed_naming


def test_every_record_arrives_once_across_pages(sandbox):
    got = run_tap(sandbox.config(page_size=7)).records("customers")
    assert sorted(r["id"] for r in got) == sorted(sandbox.state.customers.records)
    assert len(got) > 7 * 3   # really paged


def test_the_next_run_reads_only_what_changed(sandbox):
    first = run_tap(sandbox.config())
    changed = sandbox.call(sandbox.state.mutate, update=2, create=1)
    second = run_tap(sandbox.config(), state=first.states()[-1]).records("customers")
    ids = {r["id"] for r in second}
    assert set(changed["updated"] + changed["created"]) <= ids
    assert len(ids) <= 3 + 1   # the changes, and at most the boundary record (updated_since is inclusive)


def test_a_server_error_is_retried(sandbox, monkeypatch):
    monkeypatch.setattr(client.__Source__Stream, "backoff_base_seconds", 0.01)
    sandbox.faults({"vendor": "__source__", "kind": "status", "status": 503, "count": 2})
    taps: list = []
    assert len(run_tap(sandbox.config(), tap_out=taps).records("customers")) == len(sandbox.state.customers.records)
    assert [b["status"] for b in taps[0].backoff_log] == [503, 503]


def test_a_refused_token_is_one_line_naming_the_setting(sandbox, tmp_path):
    done = cli([], sandbox.config(api_token="not-the-token"), tmp_path)
    assert_failed_naming(done, "TAP___SOURCE___API_TOKEN")
    assert done.returncode == 1
    assert "not-the-token" not in done.stderr + done.stdout
