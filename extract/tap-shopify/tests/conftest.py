from __future__ import annotations

import pytest

from tests.sandbox import RunningSandbox
from tributary_sandbox.vendors.shopify.api import API_VERSIONS


@pytest.fixture(params=[API_VERSIONS[0], API_VERSIONS[-1]], ids=lambda version: f"api-{version}")
def sandbox(request):
    """A fresh simulator per test (tests mutate it), bucket wide open unless a test narrows it.
    Every test runs at the oldest and the newest API version the tap supports: the simulator
    answers each with that version's published schema, so a field a version lacks is refused."""
    sb = RunningSandbox(api_version=request.param)
    yield sb
    sb.stop()
