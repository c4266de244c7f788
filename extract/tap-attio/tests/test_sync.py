"""Paging, full reads, changes between runs and schema drift, against the simulator."""
from __future__ import annotations

import json
import math

from tests.runner import cli, run_tap, select_all
from tributary_sandbox.vendors.attio import control


def test_pages_to_the_end_of_every_object(sandbox):
    # An odd page size makes the last page short; page_size == count would end on an empty page.
    out = run_tap(sandbox.config(page_size=7), only={"people", "companies"})
    counts = sandbox.call(control.counts, sandbox.state)
    assert len(out.records("people")) == counts["people"]
    assert len(out.records("companies")) == counts["companies"]
    assert len({r["record_id"] for r in out.records("people")}) == counts["people"]
    # one request per page and one empty page that ends each listing: a short page does not
    # (a vendor may send one mid-listing, tests/test_hostile_pages.py)
    expected = sum(math.ceil(counts[name] / 7) + 1 for name in ("people", "companies"))
    assert sandbox.state.requests["records_query"] == expected


def test_exact_multiple_of_page_size_ends_on_empty_page(sandbox):
    n = sandbox.call(control.counts, sandbox.state)["people"]
    page = next(p for p in range(5, 60) if n % p == 0)
    out = run_tap(sandbox.config(page_size=page), only={"people"})
    assert len(out.records("people")) == n
    assert sandbox.state.requests["records_query"] == n // page + 1


def test_default_run_reads_everything_the_simulator_has(sandbox):
    out = run_tap(sandbox.config())
    counts = sandbox.call(control.counts, sandbox.state)
    got = out.counts()
    for stream in ("companies", "people", "deals", "users", "workspaces", "subscriptions",
                   "notes", "tasks", "workspace_members", "objects", "lists"):
        assert got[stream] == counts[stream], stream
    assert got["list_entries_sales_pipeline"] == counts["list:sales_pipeline"]
    assert got["list_entries_key_accounts"] == counts["list:key_accounts"]
    assert got["attributes"] == sum(counts["attributes"].values())


def test_values_are_flattened_to_current_typed_columns(sandbox):
    out = run_tap(sandbox.config(), only={"companies", "people", "deals", "subscriptions"})
    schema = out.schema("people")["properties"]
    assert schema["name"]["type"] == ["string", "null"]
    assert schema["email_addresses"]["type"] == ["array", "null"]
    assert "values" in schema and "newsletter_opt_in" in schema   # custom attribute included
    person = next(p for p in out.records("people") if p["values"]["company"])
    assert person["name"] == person["values"]["name"][0]["full_name"]
    assert person["name__first_name"] and person["name__last_name"]
    assert person["email_addresses"][0] == person["values"]["email_addresses"][0]["email_address"]
    assert person["company"] == person["values"]["company"][0]["target_record_id"]
    assert person["created_at"].endswith("Z") and len(person["created_at"]) == 27   # 6 digits
    # historical values: only the current one lands in the column
    renamed = [c for c in out.records("companies") if len(c["values"]["name"]) > 1]
    assert renamed, "the world renames some companies"
    for c in renamed:
        current = [v for v in c["values"]["name"] if v["active_until"] is None]
        assert c["name"] == current[0]["value"]
    closed = [d for d in out.records("deals") if len(d["values"]["stage"]) > 1]
    assert closed and all(d["stage"] in ("Won 🎉", "Lost") for d in closed)
    deal = next(d for d in out.records("deals") if d["value"] is not None)
    assert isinstance(deal["value"], float) and deal["value__currency_code"] == "USD"
    assert out.records("subscriptions"), "the custom object is discovered and synced"


def test_changed_record_is_emitted_by_the_next_default_run(sandbox):
    first = run_tap(sandbox.config(), only={"people"})
    before = {r["record_id"]: r for r in first.records("people")}
    change = sandbox.call(sandbox.state.mutate, "people", update=1, create=1, delete=1)
    updated = change["updated"][0]
    assert before[updated["record_id"]]["job_title"] != updated["value"]

    second = run_tap(sandbox.config(), only={"people"})
    after = {r["record_id"]: r for r in second.records("people")}
    assert after[updated["record_id"]]["job_title"] == updated["value"]
    history = after[updated["record_id"]]["values"]["job_title"]
    assert history[-1]["active_until"] is None
    assert all(v["active_until"] for v in history[:-1])
    assert change["created"][0] in after
    assert change["deleted"][0] not in after
    # deletes reach the loader through ACTIVATE_VERSION, sent after the last RECORD
    kinds = second.types("people")
    assert kinds.index("ACTIVATE_VERSION") > max(i for i, k in enumerate(kinds) if k == "RECORD")
    versions = {m["version"] for m in second.messages if m.get("stream") == "people" and "version" in m}
    assert len(versions) == 1


def test_custom_attribute_added_between_runs_becomes_a_column(sandbox, tmp_path):
    config = sandbox.config()
    first = json.loads(cli(["--discover"], config, tmp_path).stdout)
    companies = next(s for s in first["streams"] if s["tap_stream_id"] == "companies")
    assert "renewal_month" not in companies["schema"]["properties"]

    sandbox.call(control.add_custom_attribute, sandbox.state, "companies", "renewal_month", type="select")

    second = json.loads(cli(["--discover"], config, tmp_path).stdout)
    companies = next(s for s in second["streams"] if s["tap_stream_id"] == "companies")
    assert companies["schema"]["properties"]["renewal_month"] == {"type": ["string", "null"]}
    out = run_tap(config, only={"companies"})
    assert "renewal_month" in out.schema("companies")["properties"]
    filled = [r for r in out.records("companies") if r["renewal_month"]]
    assert filled and {r["renewal_month"] for r in filled} <= {"Option A", "Option B"}


def test_old_catalog_still_syncs_after_drift(sandbox, tmp_path):
    """A saved catalog from before the drift: the catalog wins (Singer's contract), the run does
    not break, records match the SCHEMA sent, and the new attribute's data is in `values`."""
    config = sandbox.config()
    catalog = select_all(json.loads(cli(["--discover"], config, tmp_path).stdout), {"people"})
    sandbox.call(control.add_custom_attribute, sandbox.state, "people", "nps", type="number")
    cat_file = tmp_path / "catalog.json"
    cat_file.write_text(json.dumps(catalog))
    done = cli(["--catalog", str(cat_file)], config, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    msgs = [json.loads(line) for line in done.stdout.splitlines()]
    schema = next(m for m in msgs if m["type"] == "SCHEMA")["schema"]
    assert "nps" not in schema["properties"]
    records = [m["record"] for m in msgs if m["type"] == "RECORD"]
    assert records and all(set(r) <= set(schema["properties"]) for r in records)
    assert any(r["values"]["nps"] for r in records)


def test_objects_setting_limits_record_streams(sandbox):
    from tap_attio.tap import TapAttio
    names = {s.name for s in TapAttio(config=sandbox.config(objects=["people", "deals"])).discover_streams()}
    assert {"people", "deals"} <= names
    assert "companies" not in names and "subscriptions" not in names


def test_cli_discover_then_sync_counts_match(sandbox, tmp_path):
    config = sandbox.config()
    disc = cli(["--discover"], config, tmp_path)
    assert disc.returncode == 0, disc.stderr[-2000:]
    cat_file = tmp_path / "catalog.json"
    cat_file.write_text(json.dumps(select_all(json.loads(disc.stdout))))
    run = cli(["--catalog", str(cat_file)], config, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    msgs = [json.loads(line) for line in run.stdout.splitlines()]
    got = {}
    for m in msgs:
        if m["type"] == "RECORD":
            got[m["stream"]] = got.get(m["stream"], 0) + 1
    counts = sandbox.call(control.counts, sandbox.state)
    for slug in ("companies", "people", "deals", "users", "workspaces", "subscriptions", "notes", "tasks"):
        assert got[slug] == counts[slug], slug


def test_what_attio_documents_reaches_the_structure_and_task_streams(sandbox):
    """Divergences Attio's own SDK found in the simulator hid two tap defects: a list attribute's
    id names its list `object_id` (the tap read `list_id`: null on real Attio), and tasks carry
    `completed_at` (the tap declared an undocumented `format` instead, and lost completion times)."""
    out = run_tap(sandbox.config(), only={"lists", "list_attributes", "tasks"})
    list_ids = {lst["list_id"] for lst in out.records("lists")}
    attributes = out.records("list_attributes")
    assert attributes and {a["list_id"] for a in attributes} == list_ids
    tasks = out.records("tasks")
    assert "format" not in out.schema("tasks")["properties"]
    done = [t for t in tasks if t["is_completed"]]
    assert done and all(t["completed_at"] and t["completed_at"] >= t["created_at"] for t in done)
    assert all(t["completed_at"] is None for t in tasks if not t["is_completed"])
