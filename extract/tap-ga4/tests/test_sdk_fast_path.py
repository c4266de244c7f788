"""sdk_fast_path: false (the Singer SDK's stock record path, tributary_tap_support/sdk_private.py)
writes the very messages the fast path writes, a deselected column left out by both."""
from __future__ import annotations

from tap_ga4.tap import TapGA4
from tests.runner import run_tap, select_all
from tributary_tap_support.testing import compare_record_paths


def test_the_sdks_stock_path_writes_the_same_messages(sandbox):
    catalog = select_all(TapGA4(config=sandbox.config()).catalog_dict)
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if entry["tap_stream_id"] == "daily_overview" and md["breadcrumb"] == ["properties", "is_sampled"]:
                md["metadata"]["selected"] = False
    fast, tap = compare_record_paths(run_tap, sandbox.config(), catalog=catalog)
    assert fast.records("daily_overview") and not any("is_sampled" in r for r in fast.records("daily_overview"))
    assert all(stream.direct_writer is not None for stream in tap.streams.values())
