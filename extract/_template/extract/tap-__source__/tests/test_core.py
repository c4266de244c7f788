"""The Singer SDK's standard tap tests, against the __Source__ simulator on a free local port."""
from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from tap___source__.tap import Tap__Source__
from tests.sandbox import RunningSandbox

# get_tap_test_class needs the config (and so the port) when the module is imported.
_SANDBOX = RunningSandbox(scale=0.1)
atexit.register(_SANDBOX.stop)

TestTap__Source__ = get_tap_test_class(tap_class=Tap__Source__, config=_SANDBOX.config())
