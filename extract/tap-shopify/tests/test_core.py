"""The Singer SDK's standard tap tests, against the Shopify simulator on a free local port."""
from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from tap_shopify.tap import TapShopify
from tests.sandbox import RunningSandbox

# get_tap_test_class needs the config (and so the port) when the module is imported.
_SANDBOX = RunningSandbox(scale=0.05)
atexit.register(_SANDBOX.stop)

TestTapShopify = get_tap_test_class(tap_class=TapShopify, config=_SANDBOX.config())
