"""sdk_fast_path: false (the Singer SDK's stock record path, tributary_tap_support/sdk_private.py)
writes the very messages the fast path writes."""
from __future__ import annotations

from tests.runner import run_tap
from tributary_tap_support.testing import compare_record_paths


def test_the_sdks_stock_path_writes_the_same_messages(sandbox):
    fast, _ = compare_record_paths(run_tap, sandbox.config())
    assert fast.records("customers")
