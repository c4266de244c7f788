from __future__ import annotations

import pytest

from tests.sandbox import RunningSandbox


@pytest.fixture
def sandbox():
    """A fresh simulator per test (tests mutate it), bucket wide open unless a test narrows it."""
    sb = RunningSandbox()
    yield sb
    sb.stop()
