"""Unit tests of the QuickBooks wrapper's own logic (the end-to-end tests run it for real)."""

from __future__ import annotations

import datetime as dt
import json
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extract" / "tap-quickbooks-wrapper"))
from tap_quickbooks_wrapper import guarded_tap  # noqa: E402
from tap_quickbooks_wrapper.guarded_tap import (  # noqa: E402
    BatchItemFault, ChangeFeedTruncated, checked, complete_change_feed,
)
from tap_quickbooks_wrapper.main import (  # noqa: E402
    claim_company,
    ConfigError, TokenStore, bounded_cdc_state, check_config, diagnose, with_report_restatement,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)


def test_token_store_starts_from_the_configured_token(tmp_path):
    store = TokenStore(tmp_path / "t.json", "realm", "client", "first")
    assert store.current_token() == "first"


def test_token_store_keeps_the_newest_token_privately(tmp_path):
    path = tmp_path / "deep" / "t.json"
    store = TokenStore(path, "realm", "client", "first")
    assert store.save("second") is True
    assert store.save("second") is False
    assert TokenStore(path, "realm", "client", "first").current_token() == "second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_newly_configured_token_starts_a_new_chain(tmp_path):
    path = tmp_path / "t.json"
    TokenStore(path, "realm", "client", "first").save("rotated")
    assert TokenStore(path, "realm", "client", "reconnected").current_token() == "reconnected"
    assert TokenStore(path, "other-realm", "client", "first").current_token() == "first"


def test_an_inherited_extractor_that_fell_back_to_the_first_company_is_refused(tmp_path):
    """tap-quickbooks--acme without its own realm id takes tap-quickbooks's: the same company would
    land twice, in two schemas. The first extractor to load a company claims it."""
    claim_company(tmp_path, "9130350000000001", "tap-quickbooks")
    claim_company(tmp_path, "9130350000000001", "tap-quickbooks")          # its own company, again
    with pytest.raises(ConfigError) as refused:
        claim_company(tmp_path, "9130350000000001", "tap-quickbooks--acme")
    assert "TAP_QUICKBOOKS__ACME_REALM_ID" in str(refused.value) and "tap-quickbooks already loads" in str(refused.value)
    claim_company(tmp_path, "9130350000072828", "tap-quickbooks--acme")    # its own company is fine
    claim_company(tmp_path, "9130350000000001", None)                      # outside Meltano: not checked
    assert json.loads((tmp_path / "company-9130350000072828.json").read_text())["extractor"] == "tap-quickbooks--acme"


def test_the_parent_takes_back_a_company_an_inherited_extractor_claimed_by_falling_back(tmp_path):
    """tap-quickbooks--acme ran first without its own company id (so with tap-quickbooks's): the
    parent is not refused for it; the inherited one is, from then on."""
    claim_company(tmp_path, "9130350000000001", "tap-quickbooks--acme")
    claim_company(tmp_path, "9130350000000001", "tap-quickbooks")
    with pytest.raises(ConfigError):
        claim_company(tmp_path, "9130350000000001", "tap-quickbooks--acme")


def test_a_token_store_holding_another_extractors_company_is_refused(tmp_path):
    store = TokenStore(tmp_path / "token.json", "9130350000000001", "client", "configured", "tap-quickbooks")
    store.save("rotated-1")
    other = TokenStore(tmp_path / "token.json", "9130350000072828", "client", "configured-2", "tap-quickbooks--second")
    with pytest.raises(ConfigError) as refused:
        other.check_company()
    assert "TAP_QUICKBOOKS__SECOND_TOKEN_STORE_PATH" in str(refused.value)
    store.check_company()   # its own chain
    assert store.current_token() == "rotated-1"
    # One extractor moved to another company (a test company, then the real one): a new chain.
    moved = TokenStore(tmp_path / "token.json", "9130350000072828", "client", "configured-2", "tap-quickbooks")
    moved.check_company()
    assert moved.current_token() == "configured-2"


def test_a_first_load_leaves_the_deletions_feed_to_the_guarded_tap():
    assert bounded_cdc_state({}, "2024-01-01T00:00:00Z", NOW) == {}


def test_the_deletions_feed_reads_from_an_hour_before_the_run_on_quickbooks_clock():
    # A first load reads every current row: deletions before it are absent already, and asking the
    # change feed for 29 days of them would ask for more than its 1000-object answers hold. After
    # every complete read the bookmark is the run's start less an hour, even when the tap moved it
    # to a newer deletion (QuickBooks' "time", not this machine's clock).
    class DeletedObjectsLike:
        stream_name = "deleted_objects"

        def __init__(self, state):
            self.state = state

        def sync(self):
            self.read_from = self.state["bookmarks"]["deleted_objects"]["LastUpdatedTime"]
            self.state["bookmarks"]["deleted_objects"]["LastUpdatedTime"] = "2026-11-25T03:59:00-08:00"
            yield {"Id": "1", "status": "Deleted"}

    guarded_tap.run_started.clear()
    guarded_tap.note_quickbooks_time({"time": "2026-11-25T04:00:00.000-08:00"})   # 12:00 UTC
    guarded_tap.note_quickbooks_time({"time": "2026-11-25T05:00:00.000-08:00"})   # later answers: no change
    written = []
    first_load = DeletedObjectsLike({})
    assert list(guarded_tap.advancing_bookmark(DeletedObjectsLike.sync, written.append)(first_load)) == [{"Id": "1", "status": "Deleted"}]
    assert first_load.read_from == "2026-11-25T11:00:00Z"
    assert first_load.state["bookmarks"]["deleted_objects"]["LastUpdatedTime"] == "2026-11-25T11:00:00Z"
    later = DeletedObjectsLike({"bookmarks": {"deleted_objects": {"LastUpdatedTime": "2026-11-20T00:00:00Z"}}})
    list(guarded_tap.advancing_bookmark(DeletedObjectsLike.sync, written.append)(later))
    assert later.read_from == "2026-11-20T00:00:00Z"
    assert later.state["bookmarks"]["deleted_objects"]["LastUpdatedTime"] == "2026-11-25T11:00:00Z"
    assert written == [first_load.state, later.state]   # the moved bookmark is emitted as state
    guarded_tap.run_started.clear()


def test_cdc_bookmark_starts_inside_the_30_day_window():
    state = bounded_cdc_state({"bookmarks": {"invoices": {"LastUpdatedTime": "2026-01-01T00:00:00Z"}}},
                              "2024-01-01T00:00:00Z", NOW)
    assert state["bookmarks"]["deleted_objects"]["LastUpdatedTime"] == "2026-10-27T12:00:00Z"


def test_recent_cdc_bookmark_is_kept():
    recent = {"bookmarks": {"deleted_objects": {"LastUpdatedTime": "2026-11-20T08:00:00-08:00"},
                            "invoices": {"LastUpdatedTime": "2025-01-01T00:00:00Z"}}}
    state = bounded_cdc_state(json.loads(json.dumps(recent)), "2024-01-01T00:00:00Z", NOW)
    assert state == recent


def test_a_recent_start_date_is_left_to_the_tap():
    state = bounded_cdc_state({"bookmarks": {"invoices": {"LastUpdatedTime": "2026-11-21T00:00:00Z"}}},
                              "2026-11-20T00:00:00Z", NOW)
    assert "deleted_objects" not in state["bookmarks"]  # the tap starts at start_date itself


def test_a_change_feed_answer_at_its_limit_stops_the_run_naming_the_entity():
    def get(self, url, headers=None, params=None):
        return {"CDCResponse": [{"QueryResponse": [{"Invoice": [{"Id": str(i)} for i in range(size)]}]}]}

    size = 999
    checked_get = complete_change_feed(get)
    assert checked_get(None, "/v3/company/1/cdc", params={"entities": "Invoice", "changedSince": "x"})
    size = 1000
    with pytest.raises(ChangeFeedTruncated, match="1000 Invoice changes since x"):
        checked_get(None, "/v3/company/1/cdc", params={"entities": "Invoice", "changedSince": "x"})
    # the tap's first, all-entity request: it splits per entity itself when that holds 1000
    assert checked_get(None, "/v3/company/1/cdc", params={"entities": "Account,Invoice", "changedSince": "x"})


def test_missing_settings_are_named_with_their_variables():
    with pytest.raises(ConfigError) as error:
        check_config({"start_date": "2024-01-01", "user_agent": "x", "realm_id": "1", "client_id": "c",
                      "client_secret": "", "refresh_token": None})
    message = str(error.value)
    assert "TAP_QUICKBOOKS_CLIENT_SECRET" in message and "TAP_QUICKBOOKS_REFRESH_TOKEN" in message
    assert "TAP_QUICKBOOKS_CLIENT_ID" not in message


def test_number_settings_given_as_text_are_converted_or_named():
    settings = {"start_date": "2024-01-01", "user_agent": "x", "realm_id": "1", "client_id": "c",
                "client_secret": "s", "refresh_token": "r"}
    config = {**settings, "max_results": "500", "request_timeout": "60"}
    check_config(config)
    assert (config["max_results"], config["request_timeout"]) == (500, 60)
    with pytest.raises(ConfigError, match=r"TAP_QUICKBOOKS_MAX_RESULTS='lots' is not a whole number: set it to e.g. 1000"):
        check_config({**settings, "max_results": "lots"})
    with pytest.raises(ConfigError, match=r"TAP_QUICKBOOKS_MAX_RESULTS='5000' is above 1000, the most allowed"):
        check_config({**settings, "max_results": "5000"})


def test_diagnoses_name_the_fix():
    assert "TAP_QUICKBOOKS_REFRESH_TOKEN" in diagnose("oauthlib.oauth2.rfc6749.errors.InvalidGrantError: (invalid_grant)")
    assert "TAP_QUICKBOOKS_CLIENT_SECRET" in diagnose("(invalid_client) Client authentication failed")
    assert "run again" in diagnose("HTTP-error-code: 429, Error: ThrottleExceeded")


def test_report_is_read_again_for_the_restatement_window():
    state = {"bookmarks": {"profit_loss_report": {"LastUpdatedTime": "2026-11-25T00:00:00+00:00"}}}
    state = with_report_restatement(state, "2024-01-01T00:00:00Z", NOW, 90)
    assert state["bookmarks"]["profit_loss_report"]["LastUpdatedTime"] == "2026-08-27T12:00:00Z"


def test_report_restatement_never_reaches_before_start_date_nor_starts_a_first_run():
    state = {"bookmarks": {"profit_loss_report": {"LastUpdatedTime": "2026-11-25T00:00:00+00:00"}}}
    state = with_report_restatement(state, "2026-11-01T00:00:00Z", NOW, 90)
    assert state["bookmarks"]["profit_loss_report"]["LastUpdatedTime"] == "2026-11-01T00:00:00Z"
    assert with_report_restatement({}, "2024-01-01T00:00:00Z", NOW, 90) == {"bookmarks": {}}


def test_a_batch_answered_200_with_a_fault_inside_is_an_error_naming_the_entity():
    """The community tap reads such an item as "no more rows"; the guard stops the run instead."""
    answers = {
        "fine": {"BatchItemResponse": [{"bId": "Invoice", "QueryResponse": {"Invoice": [], "maxResults": 0}}]},
        "fault": {"BatchItemResponse": [
            {"bId": "Customer", "QueryResponse": {"Customer": [{"Id": "1"}], "maxResults": 1}},
            {"bId": "Invoice", "Fault": {"type": "SystemFault", "Error": [
                {"Message": "An application error has occurred", "code": "10000", "Detail": "System Failure"}]}}]},
    }
    post = checked(lambda self, url, headers=None, data=None: answers[data])
    assert post(None, "/v3/company/1/batch", data="fine") == answers["fine"]
    with pytest.raises(BatchItemFault) as fault:
        post(None, "/v3/company/1/batch", data="fault")
    message = str(fault.value)
    assert message.startswith("QuickBooks answered the batch (HTTP 200) with a Fault for entity Invoice: "
                              "An application error has occurred (code 10000, System Failure)")
    assert "Fix: run again" in message
    answers["empty"] = {"time": "2026-11-30T10:00:00.000-08:00"}
    with pytest.raises(BatchItemFault, match="without a BatchItemResponse list"):
        post(None, "/v3/company/1/batch", data="empty")
    # the wrapper's last line is that message, taken from the traceback's last line
    log = f"Traceback (most recent call last):\n  ...\ntap_quickbooks_wrapper.guarded_tap.BatchItemFault: {message}\n"
    assert diagnose(log) == message
