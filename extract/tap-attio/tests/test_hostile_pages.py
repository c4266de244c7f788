"""Answers a hostile vendor could send while the tap pages through a listing. Every listing is
either read whole (no live row skipped, whatever moved meanwhile) or fails naming the stream,
before ACTIVATE_VERSION: a run never reads a bad page as "no more rows" (the loader would then
mark every unread row deleted)."""
from __future__ import annotations

import json

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_attio import client
from tap_attio.tap import TapAttio
from tests.runner import run_tap
from tributary_tap_support.testing import select_all, sync_lines
from tributary_sandbox.vendors.attio import control


def tamper(monkeypatch, change):
    """Every answer the tap receives passes through `change(stream, nth, body) -> body` (nth counts
    that stream's requests from 1); a body returned as bytes is sent as it is."""
    real = client.AttioStream._request
    seen: dict[str, int] = {}

    def request(self, prepared, context):
        response = real(self, prepared, context)
        seen[self.name] = seen.get(self.name, 0) + 1
        changed = change(self, seen[self.name], json.loads(response.content))
        response._content = changed if isinstance(changed, bytes) else json.dumps(changed).encode()
        return response
    monkeypatch.setattr(client.AttioStream, "_request", request)


def failed_run(config: dict, stream: str) -> tuple[list[str], Exception]:
    """The lines a run wrote before the error that stopped it, and that error."""
    tap = TapAttio(config=config, catalog=select_all(TapAttio(config=config).catalog_dict, {stream}))
    lines, error = sync_lines(tap, raise_errors=False)
    assert error is not None, "the run should have failed"
    return lines, error


def live_ids(sandbox, object_slug: str) -> set[str]:
    rows = sandbox.call(control.truth_rows, sandbox.state)["objects"][object_slug]
    return {row["id"]["record_id"] for row in rows}


@pytest.mark.parametrize("body, named", [
    ({"records": []}, "no `data` array"),
    ({"data": None}, "no `data` array"),
    ({"data": {"id": 1}}, "no `data` array"),
    ([], "no `data` array"),
    ({"data": [{"values": {}}]}, "a row without id or created_at"),
])
def test_an_answer_that_is_not_a_page_fails_the_stream_and_deletes_nothing(sandbox, monkeypatch, body, named):
    tamper(monkeypatch, lambda stream, nth, page: body if stream.name == "people" and nth == 2 else page)
    lines, error = failed_run(sandbox.config(page_size=20), "people")
    assert isinstance(error, FatalAPIError) and "stream 'people'" in str(error) and named in str(error)
    assert "before marking any row deleted" in str(error)
    assert not any('"ACTIVATE_VERSION"' in line for line in lines)


def test_a_page_cut_off_mid_json_fails_the_stream(sandbox, monkeypatch):
    tamper(monkeypatch, lambda stream, nth, page: json.dumps(page).encode()[:200] if stream.name == "notes" else page)
    lines, error = failed_run(sandbox.config(), "notes")
    assert isinstance(error, FatalAPIError) and "not valid JSON" in str(error)
    assert not any('"ACTIVATE_VERSION"' in line for line in lines)


def test_an_empty_first_page_reads_as_an_empty_listing_for_the_loaders_guard(sandbox, monkeypatch):
    """`data: []` is a valid page: the tap cannot tell "no rows" from a vendor incident. It sends
    no row and ACTIVATE_VERSION; the loader's deletion guard refuses to empty the table
    (load/target-postgres-wrapper, tests/e2e/test_hostile_vendor.py)."""
    tamper(monkeypatch, lambda stream, nth, page: {"data": []} if stream.name == "people" else page)
    out = run_tap(sandbox.config(page_size=20), only={"people"})
    assert out.records("people") == [] and "ACTIVATE_VERSION" in out.types("people")


def test_a_short_page_in_the_middle_does_not_end_the_listing(sandbox, monkeypatch):
    def short(stream, nth, page):
        if stream.name == "people" and nth == 2:
            page["data"] = page["data"][:5]
        return page
    tamper(monkeypatch, short)
    out = run_tap(sandbox.config(page_size=20), only={"people"})
    assert {r["record_id"] for r in out.records("people")} == live_ids(sandbox, "people")


def test_a_record_deleted_while_paging_skips_no_live_record(sandbox, monkeypatch):
    """Offset paging skipped the first record of the next page when an earlier one was deleted
    between two pages; the loader then marked that live record deleted."""
    def delete_an_earlier_one(stream, nth, page):
        if stream.name == "people" and nth == 2:
            first = page["data"][0]["id"]["record_id"]
            sandbox.call(sandbox.state.mutate, "people", delete=1, record_ids=[first])
        return page
    tamper(monkeypatch, delete_an_earlier_one)
    out = run_tap(sandbox.config(page_size=20), only={"people"})
    got = {r["record_id"] for r in out.records("people")}
    assert live_ids(sandbox, "people") <= got


def test_records_created_while_paging_are_read_and_duplicates_across_pages_are_harmless(sandbox, monkeypatch):
    def create_and_repeat(stream, nth, page):
        if stream.name == "companies" and nth == 2:
            sandbox.call(sandbox.state.mutate, "companies", create=3)
            page["data"] = page["data"][:1] + page["data"]  # the vendor sends one row twice
        return page
    tamper(monkeypatch, create_and_repeat)
    out = run_tap(sandbox.config(page_size=20), only={"companies"})
    assert {r["record_id"] for r in out.records("companies")} == live_ids(sandbox, "companies")


def test_a_note_deleted_while_paging_makes_the_listing_read_again(sandbox, monkeypatch):
    """GET /notes takes no filter: pages overlap by one row, and a row out of place means rows
    moved, so the listing is read again."""
    def delete_first_note(stream, nth, page):
        if stream.name == "notes" and nth == 2:
            sandbox.call(lambda: sandbox.state.workspace.notes.pop(0))
        return page
    tamper(monkeypatch, delete_first_note)
    out = run_tap(sandbox.config(), only={"notes"})
    truth = {json.dumps(note["id"], sort_keys=True) for note in sandbox.call(lambda: list(sandbox.state.workspace.notes))}
    got = {json.dumps({"workspace_id": r["workspace_id"], "note_id": r["note_id"]}, sort_keys=True)
           for r in out.records("notes")}
    assert truth <= got
    assert out.types("notes")[-1] == "ACTIVATE_VERSION"


def test_a_listing_that_keeps_moving_fails_naming_the_stream(sandbox, monkeypatch):
    def delete_every_time(stream, nth, page):
        if stream.name == "notes" and nth % 2 == 1 and len(page["data"]) > 1:
            sandbox.call(lambda: sandbox.state.workspace.notes.pop(0))
        return page
    tamper(monkeypatch, delete_every_time)
    lines, error = failed_run(sandbox.config(), "notes")
    assert isinstance(error, FatalAPIError) and "stream 'notes': rows kept moving" in str(error)
    assert not any('"ACTIVATE_VERSION"' in line for line in lines)


def test_a_note_inserted_before_the_page_only_repeats_a_row_and_reads_on(sandbox, monkeypatch, caplog):
    """A listing that shows the newest first moves rows forward when a note is created: the
    overlap row then sits later in the page, and the rows before it were sent already."""
    def insert_first_note(stream, nth, page):
        if stream.name == "notes" and nth == 2:
            first = sandbox.call(lambda: sandbox.state.workspace.notes[0])
            sandbox.call(lambda: sandbox.state.workspace.notes.insert(0, {**first, "id": {**first["id"], "note_id": "inserted"}}))
        return page
    tamper(monkeypatch, insert_first_note)
    out = run_tap(sandbox.config(), only={"notes"})
    truth = {note["id"]["note_id"] for note in sandbox.call(lambda: list(sandbox.state.workspace.notes))} - {"inserted"}
    assert truth <= {r["note_id"] for r in out.records("notes")}
    assert not any("rows moved" in message for message in caplog.messages)
