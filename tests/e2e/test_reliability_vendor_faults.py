"""Reliability: whole `meltano run` jobs through each vendor's failures, then warehouse == truth.

Every case changes the vendor's data first (so the run has something to move), arms a fault in
the sandbox, runs the real pipeline (tap → target-postgres, Meltano state and all) and then holds
the warehouse against the sandbox's truth with `truth.assert_warehouse_matches_truth`: row counts
and content checksums per table, 0 rows lost, 0 duplicated, 0 stale. Each case also checks that
its fault really fired (a fault that never happens proves nothing).

The faults are the vendors' own: QuickBooks' XML ThrottleExceeded Fault, Attio's 429 with an
HTTP-date Retry-After, GA4's 429 RESOURCE_EXHAUSTED, Shopify's THROTTLED in a 200 body and its
429; 5xx bursts; dropped connections; answers slower than the tap's timeout; an access token that
expires in the middle of a run; a page cut off mid-way (broken JSON), which must fail the run
clearly with Meltano's state unchanged, after which a plain rerun is whole; schema drift, unicode,
very long strings and nulls for every source (the sandbox's edit hooks change the vendor's data the
way its users can; each case runs the source's whole job, dbt included, and checks the values byte
for byte in the raw tables and in staging). The last test scans every line Meltano printed in this
module for every secret configured.

QuickBooks' refresh-token rotation across 30 days is its own test
(tests/e2e/test_quickbooks_token_rotation.py). The community QuickBooks tap waits a constant 60 s
before retrying a 429, a 5xx or a dropped connection (and gives up after three tries): those
QuickBooks cases are marked `slow`, except one 429 in QuickBooks' format, which stays in the
default run.

One small world (scale 0.2) for the whole module, loaded once per vendor.
"""

from __future__ import annotations

import json
import time

import pytest

from truth import AWKWARD_TEXT, assert_warehouse_matches_truth, compare_ga4_reports, compare_with_truth

SCALE = 0.2
VENDORS = ("quickbooks", "attio", "ga4", "shopify")
STATE_IDS = {v: f"dev:tap-{v}-to-target-postgres" for v in VENDORS}
TIMEOUT_SECONDS = 2   # the taps' request_timeout in the slow-answer cases; the sandbox waits longer


# ---- the module's world --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(stack):
    """A small fresh world; the sandbox's scale is put back afterwards for the other modules."""
    scale_before = stack.sandbox("GET", "/_sandbox/health")["scale"]
    first_output = len(stack.outputs)
    stack.reset(scale=SCALE)
    loaded: set[str] = set()
    yield {"loaded": loaded, "first_output": first_output}
    stack.sandbox("DELETE", "/_sandbox/faults")
    stack.reset(scale=scale_before)


@pytest.fixture
def vendor_loaded(stack, world):
    """Returns a function: load the vendor once in this module (the first, full load)."""
    def load(vendor: str) -> None:
        if vendor in world["loaded"]:
            return
        # Shopify's first load through a bulk operation: the paged backfill of the big orders is slow.
        env = {"TAP_SHOPIFY_USE_BULK": "always"} if vendor == "shopify" else None
        result = run(stack, vendor, env=env)
        assert result.ok, result.output[-4000:]
        assert_warehouse_matches_truth(vendor)
        world["loaded"].add(vendor)
    return load


def run(stack, vendor: str, env: dict | None = None):
    return stack.meltano("run", f"tap-{vendor}", "target-postgres", env=env)


def change(stack, vendor: str) -> None:
    """New, updated and deleted records at the vendor, so the next run has real work to do."""
    if vendor == "quickbooks":
        stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 11, "new": 2, "updated": 2, "deleted": 1})
    elif vendor == "attio":
        stack.sandbox("POST", "/_sandbox/attio/mutate", {"object": "deals", "update": 2, "create": 1, "delete": 1})
        stack.sandbox("POST", "/_sandbox/attio/mutate", {"object": "people", "update": 2, "create": 1})
    elif vendor == "ga4":
        stack.sandbox("POST", "/_sandbox/ga4/restate", {})
    else:
        stack.sandbox("POST", "/_sandbox/shopify/mutate",
                      {"orders_updated": 2, "orders_created": 1, "refunds": 1, "customers_updated": 1})


def arm(stack, *rules: dict) -> None:
    stack.sandbox("POST", "/_sandbox/faults", {"rules": list(rules)})


def generic_faults_left(stack) -> list[dict]:
    return stack.sandbox("GET", "/_sandbox/faults")["rules"]


def requests_since(stack, seq: int) -> list[dict]:
    return stack.sandbox("GET", f"/_sandbox/requests?since={seq}")


def last_seq(stack) -> int:
    log = stack.sandbox("GET", "/_sandbox/requests?since=0")
    return log[-1]["seq"] if log else 0


def assert_whole_run(stack, vendor: str, env: dict | None = None):
    result = run(stack, vendor, env=env)
    assert result.ok, result.output[-4000:]
    assert_warehouse_matches_truth(vendor)
    return result


def assert_clear_failure(result, *fragments: str) -> None:
    assert not result.ok, "the run must fail"
    tail = result.output.strip().splitlines()[-12:]
    assert not any("Traceback" in line for line in tail), "the last word must be a message, not a traceback:\n" + "\n".join(tail)
    for fragment in fragments:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output[-3000:]}"


def bookmarks(state: dict) -> dict:
    return (state.get("singer_state") or {}).get("bookmarks") or {}


def moved_bookmarks(before: dict, after: dict) -> set[str]:
    """Streams whose bookmark a run moved. Empty bookmarks (Attio's full-table streams) never move;
    two QuickBooks bookmarks are re-bounded by the wrapper at every run, whatever the run then
    does: deleted_objects (30-day CDC) and profit_loss_report (rewound 90 days to re-read restated
    months), so a changed value there moved past nothing."""
    old, new = bookmarks(before), bookmarks(after)
    rebounded = {"deleted_objects", "profit_loss_report"}
    return {s for s in new if new[s] and new[s] != old.get(s) and s not in rebounded}


def assert_failed_run_left_honest_state(stack, vendor: str, state_before: dict, rows_before: dict) -> None:
    """After a failed run Meltano keeps the bookmarks of the streams the tap finished (its partial
    state): each of those must already be whole in the warehouse, the stream that broke must keep
    its bookmark, and no row may have been dropped."""
    after = compare_with_truth(vendor)
    moved = moved_bookmarks(state_before, stack.state(STATE_IDS[vendor]))
    # (a row deleted at the vendor may still be there: deletions arrive through a later stream)
    behind = [t.describe() for t in after.tables if t.table in moved
              and any(t.diff()[kind] for kind in ("missing", "duplicated", "differing"))]
    assert not behind, "a bookmark moved past rows the warehouse does not have:\n" + "\n".join(behind)
    assert moved != {t.table for t in after.tables}, "the broken stream's bookmark moved too"
    lost = {t: (rows_before[t], n) for t, n in after.rows().items() if t in rows_before and n < rows_before[t] - 1}
    assert not lost, f"a failed run must not drop rows (the one deletion aside): {lost}"


# ---- 429 storms, each vendor in its own format ---------------------------------------------------------
def test_quickbooks_xml_throttle_fault_is_waited_out(stack, vendor_loaded):
    """Intuit's XML ThrottleExceeded (HTTP 429) on a data page: the tap waits and retries (60 s)."""
    vendor_loaded("quickbooks")
    change(stack, "quickbooks")
    arm(stack, {"vendor": "quickbooks", "path_contains": "/batch", "after": 1, "kind": "status", "status": 429})
    seq = last_seq(stack)
    assert_whole_run(stack, "quickbooks")
    assert generic_faults_left(stack) == []
    assert any(r["status"] == 429 and "/batch" in r["path"] for r in requests_since(stack, seq))


@pytest.mark.slow
def test_quickbooks_429_storm_fails_clearly_then_a_rerun_is_whole(stack, vendor_loaded):
    """Three 429s in a row exhaust the community tap's retries (2 minutes): one clear line, no bookmark
    past what is loaded, then a plain rerun is whole."""
    vendor_loaded("quickbooks")
    change(stack, "quickbooks")
    before = stack.state(STATE_IDS["quickbooks"]), compare_with_truth("quickbooks").rows()
    arm(stack, {"vendor": "quickbooks", "path_contains": "/batch", "after": 1, "kind": "status", "status": 429,
                "count": 3})
    result = run(stack, "quickbooks")
    assert generic_faults_left(stack) == []
    assert_clear_failure(result, "QuickBooks throttled the sync")
    assert_failed_run_left_honest_state(stack, "quickbooks", *before)
    assert_whole_run(stack, "quickbooks")


def test_attio_429_storm_honours_retry_after(stack, vendor_loaded):
    """Attio's 429 with Retry-After as an HTTP date, five times running."""
    vendor_loaded("attio")
    change(stack, "attio")
    arm(stack, {"vendor": "attio", "kind": "status", "status": 429, "count": 5, "retry_after": 1})
    result = assert_whole_run(stack, "attio")
    assert generic_faults_left(stack) == []
    assert result.output.count("Retry-After") >= 5, "every 429 must have been waited out by its Retry-After"


def test_ga4_resource_exhausted_storm_is_retried(stack, vendor_loaded):
    """GA4's 429 RESOURCE_EXHAUSTED (concurrent requests), three times running on report pages."""
    vendor_loaded("ga4")
    change(stack, "ga4")
    arm(stack, {"vendor": "ga4", "path_contains": ":runReport", "kind": "status", "status": 429, "count": 3})
    result = assert_whole_run(stack, "ga4")
    assert generic_faults_left(stack) == []
    assert result.output.count("RESOURCE_EXHAUSTED") >= 3


def test_shopify_throttled_in_200_body_and_429_are_waited_out(stack, vendor_loaded):
    """Shopify's THROTTLED (HTTP 200, errors[].extensions.code) three times, then 429 + Retry-After twice."""
    vendor_loaded("shopify")
    change(stack, "shopify")
    arm(stack, {"vendor": "shopify", "kind": "throttled", "count": 3},
        {"vendor": "shopify", "path_contains": "/graphql.json", "kind": "status", "status": 429, "count": 2,
         "retry_after": 1})
    result = assert_whole_run(stack, "shopify")
    assert generic_faults_left(stack) == []
    assert result.output.count("THROTTLED") >= 3 and result.output.count("429") >= 2


# ---- 5xx bursts and dropped connections --------------------------------------------------------------
@pytest.mark.slow
def test_quickbooks_5xx_and_a_dropped_connection_on_one_page(stack, vendor_loaded):
    """503, then the connection dropped, on the same page: the tap's third try gets it (2 × 60 s)."""
    vendor_loaded("quickbooks")
    change(stack, "quickbooks")
    arm(stack, {"vendor": "quickbooks", "path_contains": "/batch", "after": 1, "kind": "status", "status": 503},
        {"vendor": "quickbooks", "path_contains": "/batch", "kind": "drop"})
    assert_whole_run(stack, "quickbooks")
    assert generic_faults_left(stack) == []


@pytest.mark.parametrize("vendor, path, statuses", [
    # all on consecutive tries of one request: the taps' back-off doubles (1 + 2 + 4 + 8 s)
    ("attio", "", (500, 500)),
    ("ga4", ":runReport", (500, 503)),
    ("shopify", "/graphql.json", (503, 503)),
])
def test_5xx_burst_and_dropped_connections(stack, vendor_loaded, vendor, path, statuses):
    """A burst of 5xx in the vendor's own body, and connections closed without an answer, in one run."""
    vendor_loaded(vendor)
    change(stack, vendor)
    arm(stack, *({"vendor": vendor, "path_contains": path, "kind": "status", "status": status} for status in statuses),
        {"vendor": vendor, "path_contains": path, "kind": "drop", "count": 2})
    assert_whole_run(stack, vendor)
    assert generic_faults_left(stack) == []


# ---- answers slower than the tap's timeout ------------------------------------------------------------
SLOW_PAGES = {  # vendor -> (the data requests to slow down, the tap's timeout variable)
    "quickbooks": ("/batch", "TAP_QUICKBOOKS_REQUEST_TIMEOUT"),
    "attio": ("/records/query", "TAP_ATTIO_REQUEST_TIMEOUT"),
    "ga4": (":runReport", "TAP_GA4_REQUEST_TIMEOUT"),
    "shopify": ("/graphql.json", "TAP_SHOPIFY_REQUEST_TIMEOUT"),
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_answer_slower_than_the_timeout_is_retried(stack, vendor_loaded, vendor):
    vendor_loaded(vendor)
    change(stack, vendor)
    path, timeout_variable = SLOW_PAGES[vendor]
    arm(stack, {"vendor": vendor, "path_contains": path, "after": 1, "kind": "delay",
                "seconds": TIMEOUT_SECONDS + 3})
    seq = last_seq(stack)
    assert_whole_run(stack, vendor, env={timeout_variable: str(TIMEOUT_SECONDS)})
    assert generic_faults_left(stack) == []
    # The sandbox logs a request when its handler ends: the held one may still be waiting out its
    # delay after the tap gave up on it and the run finished.
    deadline = time.monotonic() + TIMEOUT_SECONDS + 5
    while not (slow := [r for r in requests_since(stack, seq) if path in r["path"]
                        and r["ms"] >= TIMEOUT_SECONDS * 900]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert slow, "the slow answer never happened"


# ---- an access token expiring mid-run ---------------------------------------------------------------
def test_quickbooks_access_token_expiring_mid_run_is_refreshed(stack, vendor_loaded):
    """Intuit's access tokens live an hour; here 3 s, and one answer takes 4 s: the next request needs a
    new token, which the tap must fetch itself (no 401 on the way)."""
    vendor_loaded("quickbooks")
    change(stack, "quickbooks")
    stack.sandbox("POST", "/_sandbox/quickbooks/tokens/access-ttl", {"seconds": 3})
    arm(stack, {"vendor": "quickbooks", "path_contains": "/batch", "after": 1, "kind": "slow", "seconds": 4})
    seq = last_seq(stack)
    try:
        assert_whole_run(stack, "quickbooks")
    finally:
        stack.sandbox("POST", "/_sandbox/quickbooks/tokens/access-ttl", {"seconds": 3600})
    log = requests_since(stack, seq)
    assert sum(1 for r in log if r["path"] == "/oauth2/v1/tokens/bearer") >= 2, "the token was never renewed"
    assert not any(r["status"] == 401 for r in log)


def test_ga4_access_token_expiring_mid_run_is_renewed(stack, vendor_loaded):
    vendor_loaded("ga4")
    change(stack, "ga4")
    tokens_before = stack.sandbox("GET", "/_sandbox/ga4/counts")["requests"].get("token", 0)
    arm(stack, {"vendor": "ga4", "path_contains": ":runReport", "after": 2, "kind": "expire_tokens"})
    seq = last_seq(stack)
    assert_whole_run(stack, "ga4")
    assert generic_faults_left(stack) == []
    assert any(r["status"] == 401 for r in requests_since(stack, seq)), "the token never expired mid-run"
    assert stack.sandbox("GET", "/_sandbox/ga4/counts")["requests"]["token"] >= tokens_before + 2


SHOPIFY_CLIENT_CREDENTIALS = {  # the sandbox's custom app (tributary_sandbox/vendors/shopify/auth.py), instead of the shpat_ token
    "TAP_SHOPIFY_ACCESS_TOKEN": "",
    "TAP_SHOPIFY_CLIENT_ID": "tributary-sandbox-shopify-client-id",
    "TAP_SHOPIFY_CLIENT_SECRET": "tributary-sandbox-shopify-client-secret",
}


def test_shopify_client_credentials_token_expiring_mid_run_is_renewed(stack, vendor_loaded):
    vendor_loaded("shopify")
    change(stack, "shopify")
    tokens_before = stack.sandbox("GET", "/_sandbox/shopify/requests")["token"]
    arm(stack, {"vendor": "shopify", "path_contains": "/graphql.json", "after": 3, "kind": "expire_tokens"})
    seq = last_seq(stack)
    assert_whole_run(stack, "shopify", env=SHOPIFY_CLIENT_CREDENTIALS)
    assert generic_faults_left(stack) == []
    assert any(r["status"] == 401 for r in requests_since(stack, seq)), "the token never expired mid-run"
    assert stack.sandbox("GET", "/_sandbox/shopify/requests")["token"] >= tokens_before + 2


# ---- a malformed page: fail clearly, state unchanged, then a rerun is whole ----------------------------
MALFORMED_PAGES = {  # vendor -> the data requests whose answer gets cut in half
    "quickbooks": "/batch", "attio": "/records/query", "ga4": ":runReport", "shopify": "/graphql.json",
}


@pytest.mark.parametrize("vendor", ["quickbooks", "attio", "shopify"])
def test_a_malformed_page_fails_clearly_and_the_rerun_is_whole(stack, vendor_loaded, vendor):
    """A page cut off mid-way (HTTP 200, broken JSON), in the middle of a run: one clear line and a
    non-zero exit. Meltano keeps the bookmarks of the streams the tap finished before the page
    broke (its partial state): each of those must already be whole in the warehouse, and the broken
    stream's bookmark must not move. Then a plain rerun is whole."""
    vendor_loaded(vendor)
    change(stack, vendor)
    before = stack.state(STATE_IDS[vendor]), compare_with_truth(vendor).rows()
    arm(stack, {"vendor": vendor, "path_contains": MALFORMED_PAGES[vendor], "after": 1, "kind": "malformed"})
    result = run(stack, vendor)
    assert generic_faults_left(stack) == [], "the malformed page was never served"
    assert_clear_failure(result, "not valid JSON")
    assert_failed_run_left_honest_state(stack, vendor, *before)
    assert_whole_run(stack, vendor)


def test_ga4_retries_a_malformed_page(stack, vendor_loaded):
    """tap-ga4 asks again for a report page that arrives cut off: the same run ends whole."""
    vendor_loaded("ga4")
    change(stack, "ga4")
    arm(stack, {"vendor": "ga4", "path_contains": ":runReport", "after": 1, "kind": "malformed", "count": 2})
    result = assert_whole_run(stack, "ga4")
    assert generic_faults_left(stack) == []
    assert result.output.count("not valid JSON") >= 2


# ---- schema drift, unicode, long strings, nulls ---------------------------------------------------------
def test_attio_new_attribute_and_changed_type_arrive_whole(stack, vendor_loaded):
    """An attribute added (a new column), then retyped text → number under the same slug."""
    vendor_loaded("attio")
    stack.sandbox("POST", "/_sandbox/attio/attributes",
                  {"object": "companies", "api_slug": "contract_tier", "type": "text", "fill": "Gold", "every": 2})
    assert_whole_run(stack, "attio")
    assert stack.scalar("select count(*) from raw_attio.companies where contract_tier = 'Gold' "
                        "and _sdc_deleted_at is null") > 0
    stack.sandbox("POST", "/_sandbox/attio/attributes",
                  {"object": "companies", "api_slug": "contract_tier", "type": "number", "fill": 3, "every": 2,
                   "replace": True})
    assert_whole_run(stack, "attio")
    assert stack.scalar("select count(*) from raw_attio.companies where contract_tier::text in ('3', '3.0') "
                        "and _sdc_deleted_at is null") > 0


def test_attio_unicode_long_strings_and_nulls_arrive_whole(stack, vendor_loaded):
    vendor_loaded("attio")
    companies = [c["id"]["record_id"] for c in stack.sandbox("GET", "/_sandbox/attio/truth/rows")["objects"]["companies"]]
    for record_id, text in zip(companies, AWKWARD_TEXT):   # one company each
        stack.sandbox("POST", "/_sandbox/attio/mutate", {"object": "companies", "update": 1, "record_ids": [record_id],
                                                         "attribute": "description", "value": text})
    # an attribute with no value anywhere: a column of nulls
    stack.sandbox("POST", "/_sandbox/attio/attributes",
                  {"object": "people", "api_slug": "nickname", "type": "text", "every": 0})
    assert_whole_run(stack, "attio")
    loaded = {d for (d,) in stack.sql("select description from raw_attio.companies where _sdc_deleted_at is null")}
    for text in AWKWARD_TEXT:
        assert text in loaded, f"{text[:40]!r}… did not arrive intact"
    assert stack.scalar("select count(*) from raw_attio.people where nickname is not null "
                        "and _sdc_deleted_at is null") == 0


def awkward_text(longest: int) -> list[str]:
    """AWKWARD_TEXT with its very long string cut to what the vendor stores in the field used."""
    return [text[:longest] for text in AWKWARD_TEXT]


def run_job(stack, vendor: str):
    """The source's whole job (tap → target → dbt build of its models), then warehouse == truth."""
    result = stack.meltano("run", vendor)
    assert result.ok, result.output[-4000:]
    assert_warehouse_matches_truth(vendor)
    return result


def by_key(rows) -> dict:
    return {key: value for key, value in rows}


# QuickBooks: an invoice's private note holds 4,000 characters (QBO's documented maximum).
QUICKBOOKS_LONGEST_NOTE = 4000
CREW_FIELD = {"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "102"}


def test_quickbooks_new_custom_field_new_property_and_retyped_field_arrive_whole(stack, vendor_loaded):
    """Invoices gain a custom field, and a property the shipped catalog does not know (as a later
    minor version adds one); then the custom field's definition is retyped text → number. (No
    staging model reads custom fields: tap → loader only.)"""
    vendor_loaded("quickbooks")
    edited = stack.sandbox("POST", "/_sandbox/quickbooks/edit", {"entity": "Invoice", "rows": [
        {"CustomField": [CREW_FIELD], "SalesChannelCode": "ONLINE"}] * 3})["edited"]
    assert_whole_run(stack, "quickbooks")
    fields = by_key(stack.sql('select "Id", "CustomField" from raw_quickbooks.invoices where "Id" = any(%s)', (edited,)))
    assert all(fields[i] == [CREW_FIELD] for i in edited), fields
    assert "SalesChannelCode" not in {c for (c,) in stack.sql(
        "select column_name from information_schema.columns where table_schema = 'raw_quickbooks'")}

    retyped = {"DefinitionId": "1", "Name": "Crew #", "Type": "NumberType", "NumberValue": 102.5}
    stack.sandbox("POST", "/_sandbox/quickbooks/edit",
                  {"entity": "Invoice", "ids": edited, "rows": [{"CustomField": [retyped]}] * 3})
    assert_whole_run(stack, "quickbooks")
    fields = by_key(stack.sql('select "Id", "CustomField" from raw_quickbooks.invoices where "Id" = any(%s)', (edited,)))
    assert all(fields[i] == [retyped] for i in edited), fields


def test_quickbooks_unicode_long_strings_and_nulls_arrive_whole(stack, vendor_loaded):
    vendor_loaded("quickbooks")
    texts = awkward_text(QUICKBOOKS_LONGEST_NOTE)
    notes = stack.sandbox("POST", "/_sandbox/quickbooks/edit",
                          {"entity": "Invoice", "rows": [{"PrivateNote": t} for t in texts]})["edited"]
    # display names are unique in QuickBooks and hold 500 characters
    names = stack.sandbox("POST", "/_sandbox/quickbooks/edit",
                          {"entity": "Customer", "rows": [{"DisplayName": t} for t in awkward_text(500)]})["edited"]
    # properties emptied: QuickBooks then leaves them out of its answers
    others = sorted((c["Id"] for c in stack.sandbox("GET", "/_sandbox/quickbooks/truth/rows")["rows"]["Customer"]
                     if c["Id"] not in names), key=int)[:2]
    emptied = stack.sandbox("POST", "/_sandbox/quickbooks/edit", {"entity": "Customer", "ids": others, "rows": [
        {"CompanyName": None, "PrimaryEmailAddr": None, "WebAddr": None}] * 2})["edited"]
    run_job(stack, "quickbooks")

    raw = by_key(stack.sql('select "Id", "PrivateNote" from raw_quickbooks.invoices where "Id" = any(%s)', (notes,)))
    staged = by_key(stack.sql("select invoice_id, private_note from staging.stg_quickbooks__invoices "
                              "where invoice_id = any(%s)", (notes,)))
    assert [raw[i] for i in notes] == texts and [staged[i] for i in notes] == texts
    staged = by_key(stack.sql("select customer_id, display_name from staging.stg_quickbooks__customers "
                              "where customer_id = any(%s)", (names,)))
    assert [staged[i] for i in names] == awkward_text(500)
    assert stack.sql("select company_name, email, website from staging.stg_quickbooks__customers "
                     "where customer_id = any(%s)", (emptied,)) == [(None, None, None)] * 2


# Shopify: GraphQL answers only the fields asked for, so drift is values changing shape within
# the schema. A customer's names hold 255 characters, an order's tags 255 each; an order's note
# has no documented limit.
SHOPIFY_LONGEST_NAME = 255


def test_shopify_values_changing_shape_arrive_whole(stack, vendor_loaded):
    """Nulls where values were (an order's email and shipping address, a customer's email object),
    values where nulls were (a note, a phone), a list emptied (tags)."""
    vendor_loaded("shopify")
    edited = stack.sandbox("POST", "/_sandbox/shopify/edit", {
        "orders": [{"email": None, "shippingAddress": None, "note": "gift, no invoice", "tags": []}] * 2,
        "customers": [{"defaultEmailAddress": None, "lastName": None, "note": "VIP"}] * 2})
    run_job(stack, "shopify")
    orders = stack.sql('select email, "shippingAddress", note, tags from raw_shopify.orders '
                       "where id = any(%s) and _sdc_deleted_at is null", (edited["orders"],))
    assert orders == [(None, None, "gift, no invoice", [])] * 2, orders
    staged = stack.sql("select email, tags from staging.stg_shopify__orders where order_gid = any(%s)",
                       (edited["orders"],))
    assert staged == [(None, [])] * 2, staged
    customers = stack.sql('select "defaultEmailAddress", "lastName", note from raw_shopify.customers '
                          "where id = any(%s) and _sdc_deleted_at is null", (edited["customers"],))
    assert customers == [(None, None, "VIP")] * 2, customers


def test_shopify_unicode_long_strings_and_nulls_arrive_whole(stack, vendor_loaded):
    vendor_loaded("shopify")
    names = awkward_text(SHOPIFY_LONGEST_NAME)
    edited = stack.sandbox("POST", "/_sandbox/shopify/edit", {
        "orders": [{"note": text, "tags": [names[k], "plain"]} for k, text in enumerate(AWKWARD_TEXT)],
        "customers": [{"firstName": name, "lastName": None} for name in names]})
    run_job(stack, "shopify")
    notes = by_key(stack.sql("select id, note from raw_shopify.orders where id = any(%s) "
                             "and _sdc_deleted_at is null", (edited["orders"],)))
    assert [notes[g] for g in edited["orders"]] == AWKWARD_TEXT
    tags = by_key(stack.sql("select order_gid, tags from staging.stg_shopify__orders where order_gid = any(%s)",
                            (edited["orders"],)))
    assert [tags[g][0] for g in edited["orders"]] == names, "tags changed on the way"
    first = by_key(stack.sql("select customer_gid, first_name from staging.stg_shopify__customers "
                             "where customer_gid = any(%s)", (edited["customers"],)))
    assert [first[g] for g in edited["customers"]] == names
    assert stack.scalar("select count(*) from staging.stg_shopify__customers where customer_gid = any(%s) "
                        "and last_name is null", (edited["customers"],)) == len(names)


# GA4: a landing page is collected up to 1,000 characters, a campaign or source name up to 100.
GA4_LONGEST = {"landingPage": 1000, "sessionCampaignName": 100}


def test_ga4_new_dimension_values_arrive_whole(stack, vendor_loaded):
    """Late sessions of yesterday with pages, campaigns and sources the reports never had, and
    GA4's "(not set)" where a value is missing."""
    vendor_loaded("ga4")
    late = [{"landingPage": "(not set)", "sessionCampaignName": "(not set)"},
            {"landingPage": "/pages/spring-sale-2026", "sessionCampaignName": "spring_sale_2026",
             "sessionSource": "newsletter.example"}]
    answer = stack.sandbox("POST", "/_sandbox/ga4/sessions", {"sessions": late})
    run_job(stack, "ga4")
    pages = {p for (p,) in stack.sql("select landing_page from staging.stg_ga4__landing_pages where report_date = %s",
                                     (answer["date"],))}
    assert {"(not set)", "/pages/spring-sale-2026"} <= pages
    campaigns = {c for (c,) in stack.sql("select session_campaign_name from raw_ga4.traffic_acquisition "
                                         "where date::date = %s", (answer["date"],))}
    assert {"(not set)", "spring_sale_2026"} <= campaigns


def test_ga4_unicode_and_long_dimension_values_arrive_whole(stack, vendor_loaded):
    vendor_loaded("ga4")
    pages = ["/" + text for text in awkward_text(GA4_LONGEST["landingPage"] - 1)]
    campaigns = awkward_text(GA4_LONGEST["sessionCampaignName"])
    answer = stack.sandbox("POST", "/_sandbox/ga4/sessions", {"sessions": [
        {"landingPage": page, "sessionCampaignName": campaign} for page, campaign in zip(pages, campaigns)]})
    run_job(stack, "ga4")
    raw = {p for (p,) in stack.sql("select landing_page from raw_ga4.landing_pages where date::date = %s",
                                   (answer["date"],))}
    staged = {p for (p,) in stack.sql("select landing_page from staging.stg_ga4__landing_pages "
                                      "where report_date = %s", (answer["date"],))}
    missing = [p[:40] for p in pages if p not in raw or p not in staged]
    assert not missing, f"landing pages altered on the way: {missing}"
    loaded = {c for (c,) in stack.sql("select session_campaign_name from raw_ga4.traffic_acquisition "
                                      "where date::date = %s", (answer["date"],))}
    assert set(campaigns) <= loaded


def test_ga4_custom_metric_changing_unit_arrives_whole(stack, vendor_loaded):
    """GA4's changed type: the owner changes a custom metric's unit (STANDARD -> CURRENCY) between
    two runs of a report of the user's own (the `reports` setting). Every custom metric type is a
    floating-point one, so the column keeps its type (no ALTER under the staging views), and both
    runs land exactly the API's figures."""
    vendor_loaded("ga4")
    report = {"name": "coupon_values", "dimensions": ["date", "sessionMedium"],
              "metrics": ["sessions", "customEvent:coupon_value"]}
    env = {"TAP_GA4_REPORTS": json.dumps([report])}
    column_types = []
    try:
        for unit in ("TYPE_STANDARD", "TYPE_CURRENCY"):
            stack.sandbox("POST", "/_sandbox/ga4/metric-type", {"metric": "customEvent:coupon_value", "type": unit})
            result = run(stack, "ga4", env=env)
            assert result.ok, result.output[-4000:]
            comparison = compare_ga4_reports([report])
            assert comparison.ok, comparison.report()
            assert comparison.rows()["coupon_values"] > 0
            column_types.append(stack.scalar(
                "select data_type from information_schema.columns where table_schema = 'raw_ga4' "
                "and table_name = 'coupon_values' and column_name = 'custom_event__coupon_value'"))
    finally:   # the world's own unit again, for the tests after this one
        stack.sandbox("POST", "/_sandbox/ga4/metric-type", {"metric": "customEvent:coupon_value", "type": "TYPE_CURRENCY"})
    assert column_types == ["numeric", "numeric"]


# ---- no secret in any log ---------------------------------------------------------------------------
def test_no_secret_in_any_log_line_of_this_module(stack, world):
    """Runs last: every line Meltano printed in this module, and Meltano's log files."""
    ga4_key = stack.sandbox("GET", "/_sandbox/ga4/service-account-key")["private_key"]
    key_body = "".join(ga4_key.splitlines()[1:-1])
    secrets = {
        "QuickBooks client secret": "sandbox-client-secret",
        "QuickBooks first refresh token": "sandbox-refresh-token-0",
        "QuickBooks current refresh token": stack.sandbox("GET", "/_sandbox/quickbooks/tokens")["refresh_token"],
        "QuickBooks access tokens": "sandbox-access-",
        "Attio API key": "sandbox-attio-api-key",
        "GA4 service-account private key": key_body[100:160],
        "GA4 access tokens": "ya29.sandbox-",
        "Shopify access token": "shpat_tributary_sandbox_token",
        "Shopify client secret": SHOPIFY_CLIENT_CREDENTIALS["TAP_SHOPIFY_CLIENT_SECRET"],
        "Shopify client-credentials tokens": "shpat_cc_",
        "warehouse owner's password": "tributary-dev",
        "loader role's password": "tributary-loader-dev",
        "dbt role's password": "tributary-transformer-dev",
    }
    outputs = stack.outputs[world["first_output"]:]
    logs = "\n".join(outputs)
    for path in stack.env_path("XDG_STATE_HOME").rglob("*"):
        if path.is_file():
            logs += path.read_text(errors="replace")
    runs = sum(1 for output in outputs if "Block run completed" in output)
    assert runs >= 20 and len(logs) > 1_000_000, f"too little log to prove anything ({runs} runs)"
    leaked = [name for name, secret in secrets.items() if secret in logs]
    assert not leaked, f"secrets in the logs: {leaked}"
