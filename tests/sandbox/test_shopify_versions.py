"""The Shopify simulator answers each API version with that version's published schema
(tributary_sandbox/vendors/shopify/schema/), and refuses a query the way Shopify's server words it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tributary_sandbox.vendors.shopify.api import API_VERSIONS
from tributary_sandbox.vendors.shopify.auth import ACCESS_TOKEN

OLD_CONSENT = "{ customers(first: 50) { nodes { id smsMarketingConsent { marketingState consentUpdatedAt } } } }"
NEW_CONSENT = "{ customers(first: 50) { nodes { id defaultPhoneNumber { smsMarketingConsent { state } } } } }"


def ask(sim, version: str, query: str) -> dict:
    resp = sim.http.post(f"{sim.control}/shopify/admin/api/{version}/graphql.json", json={"query": query},
                         headers={"X-Shopify-Access-Token": ACCESS_TOKEN}, timeout=30)
    resp.raise_for_status()
    assert resp.headers["X-Shopify-API-Version"] == version
    return resp.json()


def test_each_version_has_its_own_fields(sim):
    oldest, newest = API_VERSIONS[0], API_VERSIONS[-1]
    old = ask(sim, oldest, OLD_CONSENT)["data"]["customers"]["nodes"]
    consent = [c["smsMarketingConsent"] for c in old if c["smsMarketingConsent"]]
    assert consent and {c["marketingState"] for c in consent} <= {"NOT_SUBSCRIBED", "SUBSCRIBED"}
    refused = ask(sim, oldest, NEW_CONSENT)
    assert "data" not in refused
    assert refused["errors"][0]["message"] == "Field 'smsMarketingConsent' doesn't exist on type 'CustomerPhoneNumber'"
    assert refused["errors"][0]["extensions"] == {"code": "undefinedField", "typeName": "CustomerPhoneNumber",
                                                  "fieldName": "smsMarketingConsent"}
    new = ask(sim, newest, NEW_CONSENT)["data"]["customers"]["nodes"]
    assert {c["defaultPhoneNumber"]["smsMarketingConsent"]["state"] for c in new if c["defaultPhoneNumber"]} <= \
        {"NEVER_SUBSCRIBED", "SUBSCRIBED"}
    bulk_by_id = "{ bulkOperation(id: \"gid://shopify/BulkOperation/1\") { id } }"   # arrived in 2026-01
    assert ask(sim, oldest, bulk_by_id)["errors"][0]["extensions"] == {
        "code": "undefinedField", "typeName": "QueryRoot", "fieldName": "bulkOperation"}
    assert ask(sim, newest, bulk_by_id)["data"] == {"bulkOperation": None}


def test_refusals_are_worded_as_shopifys(sim):
    newest = API_VERSIONS[-1]
    argument = ask(sim, newest, "{ orders(first: 1, colour: \"red\") { nodes { id } } }")["errors"][0]
    assert argument["message"] == "Field 'orders' doesn't accept argument 'colour'"
    assert argument["extensions"]["code"] == "argumentNotAccepted"
    missing = ask(sim, newest, "{ order { id } }")["errors"][0]
    assert missing["message"] == "Field 'order' is missing required arguments: id"
    assert missing["extensions"]["code"] == "missingRequiredArguments"
    assert ask(sim, newest, "{ orders(first: 1) { nodes { id }")["errors"][0]["message"].startswith("Parse error on ")



def test_a_shop_simulator_leaves_no_bulk_files_behind():
    """Each shop simulator writes its bulk operations' results to a directory of its own: it goes
    when the simulator is collected, and at the latest with the process, so a day of test runs
    does not fill /tmp (it once left 452 directories, 227 MB)."""
    code = ("import gc\nfrom tributary_sandbox.clock import Clock\nfrom tributary_sandbox.faults import Faults\n"
            "from tributary_sandbox.world import build_world\nfrom tributary_sandbox.vendors import shopify\n"
            "world = build_world(42, 0.02)\n"
            "shop = shopify.Simulator(world, Clock(), Faults())\n"
            "(shop.bulk_dir / 'results.jsonl').write_text('{}')\nprint(shop.bulk_dir)\n"
            "replaced = shopify.Simulator(world, Clock(), Faults())\nkept = replaced.bulk_dir\n"
            "del replaced\ngc.collect()\nassert not kept.exists(), kept\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    bulk_dir = Path(done.stdout.strip())
    assert bulk_dir.name.startswith("shopify-bulk-") and not bulk_dir.exists()
