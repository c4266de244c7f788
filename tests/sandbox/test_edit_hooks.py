"""The control hooks the reliability suite uses to put awkward values in front of the taps:
/_sandbox/shopify/edit and /_sandbox/ga4/sessions, read back through each vendor's own API."""
from __future__ import annotations

from tributary_sandbox.vendors.shopify import api as shopify_api, auth as shopify_auth

AWKWARD = "Zoë 東京 😀👩‍👩‍👧 שלום e\u0301 \u200b tab\there \"q\" \\ " + "x" * 2000


def graphql(sim, query: str) -> dict:
    resp = sim.http.post(f"{sim.control}/shopify/admin/api/{shopify_api.API_VERSIONS[-1]}/graphql.json",
                         json={"query": query}, timeout=30,
                         headers={"X-Shopify-Access-Token": shopify_auth.ACCESS_TOKEN})
    resp.raise_for_status()
    body = resp.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_shopify_edit_shows_in_graphql_and_bumps_updated_at(sim):
    query = "{{ order(id: \"{}\") {{ id updatedAt email note tags shippingAddress {{ city }} }} }}"
    edited = sim.ctl("POST", "/_sandbox/shopify/edit", {
        "orders": [{"email": None, "shippingAddress": None, "note": AWKWARD, "tags": [AWKWARD[:255]]}],
        "customers": [{"firstName": AWKWARD[:255], "lastName": None}]})
    after = graphql(sim, query.format(edited["orders"][0]))["order"]
    customer = graphql(sim, f'{{ customer(id: "{edited["customers"][0]}") {{ firstName lastName }} }}')["customer"]
    assert customer == {"firstName": AWKWARD[:255], "lastName": None}
    sim.ctl("POST", "/_sandbox/reset", {"seed": 42, "scale": 1.0})     # the same order, unedited
    before = graphql(sim, query.format(edited["orders"][0]))["order"]
    assert before["email"] and before["shippingAddress"]
    assert (after["email"], after["shippingAddress"], after["note"], after["tags"]) == (None, None, AWKWARD, [AWKWARD[:255]])
    assert after["updatedAt"] > before["updatedAt"]
    for bad in ({"orders": [{"id": "x"}]}, {"orders": [{"nope": 1}]}, {"customers": [{"updatedAt": None}]}):
        assert sim.http.post(sim.control + "/_sandbox/shopify/edit", json=bad, timeout=30).status_code == 400


def test_ga4_late_sessions_appear_as_new_report_rows(sim):
    token = sim.ctl("POST", "/_sandbox/ga4/token", {})["access_token"]
    added = sim.ctl("POST", "/_sandbox/ga4/sessions", {"sessions": [
        {"landingPage": "/" + AWKWARD[:999], "sessionCampaignName": "(not set)"}]})
    day = added["date"]

    def pages() -> dict:
        resp = sim.http.post(f"{sim.control}/ga4/v1beta/properties/412345678:runReport", timeout=60,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"dateRanges": [{"startDate": day, "endDate": day}],
                                   "dimensions": [{"name": "landingPage"}], "metrics": [{"name": "sessions"}]})
        resp.raise_for_status()
        return {r["dimensionValues"][0]["value"]: r["metricValues"][0]["value"] for r in resp.json()["rows"]}

    assert pages()["/" + AWKWARD[:999]] == "1"
    refused = sim.http.post(sim.control + "/_sandbox/ga4/sessions", timeout=30,
                            json={"sessions": [{"landingPage": "/" + "x" * 1000}]})
    assert refused.status_code == 400 and "1000 characters" in refused.json()["error"]


def test_attio_custom_objects_and_lists_are_served_by_their_slug_percent_encoded(sim):
    from urllib.parse import quote

    from tributary_sandbox.vendors import attio

    headers = {"Authorization": f"Bearer {attio.API_KEY}"}
    created = sim.ctl("POST", "/_sandbox/attio/objects", {"api_slug": "a/b?c#d", "singular_noun": "Thing", "records": 2})
    listed = sim.ctl("POST", "/_sandbox/attio/lists", {"api_slug": "o'rder;", "parent_object": "a/b?c#d", "entries": 1})
    api = f"{sim.control}/attio/v2"
    objects = sim.http.get(f"{api}/objects", headers=headers, timeout=30).json()["data"]
    assert created in objects
    records = sim.http.post(f"{api}/objects/{quote('a/b?c#d', safe='')}/records/query", json={}, headers=headers,
                            timeout=30).json()["data"]
    assert sorted(r["values"]["name"][0]["value"] for r in records) == ["Thing 1", "Thing 2"]
    entries = sim.http.post(f"{api}/lists/{quote(listed['api_slug'], safe='')}/entries/query", json={},
                            headers=headers, timeout=30).json()["data"]
    assert [e["parent_record_id"] for e in entries] == [records[0]["id"]["record_id"]]
    assert sim.http.post(f"{sim.control}/_sandbox/attio/objects", json={"api_slug": "a/b?c#d"},
                         timeout=30).status_code == 400   # the slug is taken


def test_ga4_custom_dimensions_follow_ga4s_parameter_rules(sim):
    added = sim.ctl("POST", "/_sandbox/ga4/custom-dimensions", {"parameter": "Plan_Type", "scope": "user"})
    assert added == {"apiName": "customUser:Plan_Type"}
    token = sim.ctl("POST", "/_sandbox/ga4/token", {})["access_token"]
    metadata = sim.http.get(f"{sim.control}/ga4/v1beta/properties/412345678/metadata", timeout=30,
                            headers={"Authorization": f"Bearer {token}"}).json()
    [dimension] = [d for d in metadata["dimensions"] if d["apiName"] == "customUser:Plan_Type"]
    assert dimension["customDefinition"] is True
    for bad in ({"parameter": "1st"}, {"parameter": 'x") --'}, {"parameter": "a" * 41}, {"parameter": "ok", "scope": "item"},
                {"parameter": "Plan_Type", "scope": "user"}):
        assert sim.http.post(f"{sim.control}/_sandbox/ga4/custom-dimensions", json=bad, timeout=30).status_code == 400
