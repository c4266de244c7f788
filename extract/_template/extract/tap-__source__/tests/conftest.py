from __future__ import annotations

import pytest

from tests.sandbox import RunningSandbox


@pytest.fixture
def sandbox():
    """A fresh simulator per test (tests change its records and faults)."""
    server = RunningSandbox()
    yield server
    server.stop()
