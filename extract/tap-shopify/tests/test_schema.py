"""Every document the tap can send validates against Shopify's published Admin GraphQL schema.

The schema is fetched at test time from npm: @shopify/dev-mcp ships it as introspection JSON per
API version (dist/data/admin_<version>.json.gz). It is not committed. Without npm or the
registry the tests skip, saying why.
"""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from graphql import build_client_schema, parse, validate

from tap_shopify import queries as q
from tap_shopify.tap import DEFAULT_API_VERSION, TapShopify
import tests.sandbox  # noqa: F401  (puts the sandbox on the path)
from tributary_sandbox.vendors.shopify.api import API_VERSIONS, SCHEMA_DIR
from tributary_sandbox.vendors.shopify.schema_gen import NPM_PACKAGE, NPM_VERSION, cut



@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """{version: GraphQLSchema} for every Admin API version the npm package carries."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch Shopify's published schema (@shopify/dev-mcp)")
    where = tmp_path_factory.mktemp("dev-mcp")
    done = subprocess.run([npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"], cwd=where, capture_output=True, text=True,
                          timeout=300)
    tgz = next(where.glob("*.tgz"), None)
    if done.returncode != 0 or tgz is None:
        pytest.skip(f"`npm pack {NPM_PACKAGE}` failed, Shopify's schema is unavailable: {done.stderr.strip()[-300:]}")
    schemas = {}
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if name.startswith("admin_") and name.endswith(".json.gz"):
                version = name[len("admin_"):-len(".json.gz")]
                data = json.loads(gzip.decompress(tar.extractfile(member).read()))
                schemas[version] = build_client_schema(data.get("data", data), assume_valid=True)
    if not schemas:
        pytest.fail(f"{NPM_PACKAGE} no longer ships dist/data/admin_<version>.json.gz: update this test")
    return schemas


def _check(schema, version: str) -> dict:
    bad = {}
    for name, doc in q.all_documents(version).items():
        errors = validate(schema, parse(doc))
        if errors:
            bad[name] = [e.message for e in errors]
    return bad


def test_every_query_validates_for_the_default_version(published):
    assert DEFAULT_API_VERSION in published, f"{DEFAULT_API_VERSION} not in {sorted(published)}"
    assert _check(published[DEFAULT_API_VERSION], DEFAULT_API_VERSION) == {}


def test_every_query_validates_for_every_published_version(published):
    for version, schema in sorted(published.items()):
        if version == "unstable":
            continue
        assert _check(schema, version) == {}, version


def test_documents_cover_every_stream_and_nested_connection():
    docs = q.all_documents(DEFAULT_API_VERSION)
    names = {s.name for s in TapShopify(config={"shop": "x", "access_token": "y"}).discover_streams()}
    assert {n.split(":")[0] for n in docs if ":" in n} == names
    assert "orders:nested:lineItems" in docs and "orders:nested:refunds.*.refundLineItems" in docs
    assert "orders:bulk" in docs and "bulk_run" in docs and "bulk_poll" in docs


def test_page_queries_stay_under_the_single_query_cost_limit():
    for name, res in q.RESOURCES.items():
        size = res.page_size(DEFAULT_API_VERSION, 250)
        assert 2 + size * (1 + q.node_cost(res.node, DEFAULT_API_VERSION)) <= q.MAX_QUERY_COST, name


def test_the_simulator_answers_with_shopifys_schema_of_each_version(published):
    """The simulator's schemas are Shopify's published ones cut to what it serves, for every
    version the tap supports: regenerated here and compared with what the sandbox carries."""
    for version in API_VERSIONS:
        assert version in published, f"{NPM_PACKAGE} has no {version}: {sorted(published)}"
        carried = (SCHEMA_DIR / f"{version}.graphql").read_text()
        assert carried == cut(published[version], version), \
            f"{version}: regenerate with `python -m tributary_sandbox.vendors.shopify.schema_gen`"
