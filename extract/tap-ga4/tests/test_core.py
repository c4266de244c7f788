"""The Singer SDK's standard tap tests, against the GA4 simulator on a free local port."""
from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from tap_ga4.tap import TapGA4
from tests.sandbox import RunningSandbox

# get_tap_test_class needs the config (and so the port) when the module is imported.
_SANDBOX = RunningSandbox(scale=0.1)
atexit.register(_SANDBOX.stop)

TestTapGA4 = get_tap_test_class(tap_class=TapGA4, config=_SANDBOX.config(start_date="2026-11-10"))
