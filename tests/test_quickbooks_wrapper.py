"""Unit tests of the QuickBooks wrapper's own logic (the end-to-end tests run it for real)."""

from __future__ import annotations

import datetime as dt
import json
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extract" / "tap-quickbooks-wrapper"))
from tap_quickbooks_wrapper import guarded_tap  # noqa: E402
from tap_quickbooks_wrapper.guarded_tap import (  # noqa: E402
    BatchItemFault, ChangeFeedTruncated, checked, complete_change_feed,
)
from tap_quickbooks_wrapper.faults import fault_text  # noqa: E402
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


# ---- balance_sheet_report and profit_loss_cash_report (month_reports.py) ----------------------------
# The stream subclasses the tap's ReportStream, so it runs where the tap is installed: the plugin's
# venv that `meltano install` builds (the tap pins old libraries, so it has a venv of its own).
PROJECT = Path(__file__).resolve().parent.parent
TAP_PYTHON = PROJECT / ".meltano/extractors/tap-quickbooks/venv/bin/python"

SYNC_THE_STREAM = r"""
import datetime as dt, json, sys
from tap_quickbooks_wrapper import month_reports
given = json.load(sys.stdin)
report = getattr(month_reports, given["stream"])

class Client:
    # answers the i-th request with the i-th answer (the last one from then on); keeps what was asked
    def __init__(self):
        self.asked = []
    def get(self, url, headers=None, params=None):
        self.asked.append([url, params])
        return given["answers"][min(len(self.asked), len(given["answers"])) - 1]

client = Client()
month_reports.MonthReport.quickbooks_clock = [dt.datetime.fromisoformat(given["quickbooks_now"])]
stream = report(client, given["config"], given["state"])
records, error = [], None
try:
    for record in stream.sync():
        records.append(record)
except month_reports.NotAReport as failure:
    error = str(failure)
print(json.dumps({"records": records, "asked": client.asked, "error": error}))
"""


def sync_month_report(answers: list, state: dict | None = None, quickbooks_now: str = "2026-11-25T20:00:00-08:00",
                       stream: str = "BalanceSheetReport", **config) -> dict:
    """The stream's sync (month_reports.<stream>) with a client answering `answers`: its records,
    the requests (url, params), the STATE messages it wrote and the NotAReport it stopped with."""
    given = {"answers": answers, "state": state or {}, "quickbooks_now": quickbooks_now, "stream": stream,
             "config": {"start_date": "2024-01-01T00:00:00Z", **config}}
    done = subprocess.run([str(TAP_PYTHON), "-c", SYNC_THE_STREAM], input=json.dumps(given), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    *messages, result = done.stdout.splitlines()
    result = json.loads(result)
    result["states"] = [json.loads(m)["value"] for m in messages if json.loads(m)["type"] == "STATE"]
    result["months"] = [(params["start_date"], params["end_date"]) for _, params in result["asked"]]
    return result


def cell(value: str, account_id: str | None = None) -> dict:
    return {"value": value, **({"id": account_id} if account_id else {})}


def section(title: str, group: str | None, rows: list, total_label: str, total: str) -> dict:
    return {"Header": {"ColData": [cell(title), cell("")]}, "Rows": {"Row": rows},
            "Summary": {"ColData": [cell(total_label), cell(total)]}, "type": "Section",
            **({"group": group} if group else {})}


def account(name: str, account_id: str, amount: str) -> dict:
    return {"ColData": [cell(name, account_id), cell(amount)], "type": "Data"}


# A BalanceSheet answer in Intuit's JSON shape (GET /reports/BalanceSheet, one Total column): nested
# sections by account type, each with a Header, Rows and a Summary; an account's row carries its id;
# a parent account (the truck) is a section of its sub-accounts; Net Income is a row of its own.
BALANCE_SHEET = {
    "Header": {"Time": "2026-11-25T20:00:01-08:00", "ReportName": "BalanceSheet", "ReportBasis": "Accrual",
               "StartPeriod": "2026-10-01", "EndPeriod": "2026-10-31", "SummarizeColumnsBy": "Total", "Currency": "USD",
               "Option": [{"Name": "AccountingStandard", "Value": "GAAP"}, {"Name": "NoReportData", "Value": "false"}]},
    "Columns": {"Column": [{"ColTitle": "", "ColType": "Account", "MetaData": [{"Name": "ColKey", "Value": "account"}]},
                           {"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]}]},
    "Rows": {"Row": [
        section("ASSETS", "TotalAssets", [
            section("Current Assets", "CurrentAssets", [
                section("Bank Accounts", "BankAccounts", [account("Checking", "35", "1250.00"),
                                                          account("Savings", "36", "800.00")],
                        "Total Bank Accounts", "2050.00"),
                section("Accounts Receivable", "AR", [account("Accounts Receivable (A/R)", "84", "3120.40")],
                        "Total Accounts Receivable", "3120.40")],
                "Total Current Assets", "5170.40"),
            section("Fixed Assets", "FixedAssets", [
                {**section("Truck", None, [account("Original Cost", "38", "12000.00")], "Total Truck", "12000.00"),
                 "Header": {"ColData": [cell("Truck", "37"), cell("")]}}],
                "Total Fixed Assets", "12000.00")],
            "TOTAL ASSETS", "17170.40"),
        section("LIABILITIES AND EQUITY", "TotalLiabilitiesAndEquity", [
            section("Liabilities", "Liabilities", [
                section("Current Liabilities", "CurrentLiabilities", [
                    section("Accounts Payable", "AP", [account("Accounts Payable (A/P)", "33", "1410.15")],
                            "Total Accounts Payable", "1410.15")],
                    "Total Current Liabilities", "1410.15")],
                "Total Liabilities", "1410.15"),
            section("Equity", "Equity", [
                account("Opening Balance Equity", "34", "9000.00"), account("Retained Earnings", "2", "5230.25"),
                {"ColData": [cell("Net Income"), cell("1530.00")], "type": "Data", "group": "NetIncome"}],
                "Total Equity", "15760.25")],
            "TOTAL LIABILITIES AND EQUITY", "17170.40")]},
    "time": "2026-11-25T20:00:01.512-08:00",
}
NO_DATA = {**BALANCE_SHEET, "Header": {**BALANCE_SHEET["Header"], "Option": [
    {"Name": "AccountingStandard", "Value": "GAAP"}, {"Name": "NoReportData", "Value": "true"}]}}
NO_DATA.pop("Rows")
FAULT = {"Fault": {"Error": [{"Message": "An application error has occurred while processing your request",
                              "Detail": "System Failure Error: Could not generate the report", "code": "10000"}],
                   "type": "SystemFault"}, "time": "2026-11-25T20:00:02.100-08:00"}


def test_a_first_run_reads_every_month_from_start_date_to_quickbooks_today():
    """One request a month, as of its last day; the current month as of QuickBooks' today (the
    company's date, 2026-11-25, where this machine's UTC clock says the 26th)."""
    run = sync_month_report([BALANCE_SHEET], start_date="2026-08-15T00:00:00Z")
    assert run["months"] == [("2026-08-01", "2026-08-31"), ("2026-09-01", "2026-09-30"),
                             ("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-25")]
    assert {url for url, _ in run["asked"]} == {"/v3/company/{realm_id}/reports/BalanceSheet"}
    assert {params["accounting_method"] for _, params in run["asked"]} == {"Accrual"}
    assert [r["ReportDate"] for r in run["records"]] == ["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"]
    assert [r["AsOfDate"] for r in run["records"]] == ["2026-08-31", "2026-09-30", "2026-10-31", "2026-11-25"]
    # the bookmark moves after each month's record: the month loaded last
    assert [s["bookmarks"]["balance_sheet_report"]["LastUpdatedTime"] for s in run["states"]] == [
        "2026-08-01T00:00:00+00:00", "2026-09-01T00:00:00+00:00", "2026-10-01T00:00:00+00:00",
        "2026-11-01T00:00:00+00:00"]
    assert sync_month_report([BALANCE_SHEET], start_date="2026-12-01T00:00:00Z")["months"] == []   # not yet begun


def test_a_later_run_reads_again_the_months_of_the_restatement_window():
    bookmarked = {"bookmarks": {"balance_sheet_report": {"LastUpdatedTime": "2026-11-01T00:00:00+00:00"}}}
    # 2026-11-01 less 90 days is 2026-08-03: August on (an edit in last quarter's books reaches them)
    assert sync_month_report([BALANCE_SHEET], bookmarked)["months"] == [
        ("2026-08-01", "2026-08-31"), ("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-31"),
        ("2026-11-01", "2026-11-25")]
    assert sync_month_report([BALANCE_SHEET], bookmarked, report_restatement_days=0)["months"] == [
        ("2026-11-01", "2026-11-25")]
    # never before start_date's month
    assert sync_month_report([BALANCE_SHEET], bookmarked, start_date="2026-10-10T00:00:00Z")["months"] == [
        ("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-25")]
    # across a year end, on a new year's day (QuickBooks' clock)
    december = {"bookmarks": {"balance_sheet_report": {"LastUpdatedTime": "2026-12-01T00:00:00+00:00"}}}
    assert sync_month_report([BALANCE_SHEET], december, quickbooks_now="2027-01-01T00:30:00-08:00",
                              report_restatement_days=40)["months"] == [
        ("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30"), ("2026-12-01", "2026-12-31"),
        ("2027-01-01", "2027-01-01")]


def test_a_balance_sheet_answer_becomes_one_record_of_its_row_labels_and_amounts():
    """The shape of profit_loss_report plus the as-of day; Details as the tap's ReportStream parses
    a report: each Data and Summary row's label → its amount (headers carry none)."""
    record = sync_month_report([BALANCE_SHEET], start_date="2026-10-01T00:00:00Z",
                                quickbooks_now="2026-11-02T09:00:00-08:00")["records"][0]
    assert record == {"ReportDate": "2026-10-01", "AsOfDate": "2026-10-31", "AccountingMethod": "Accrual", "Details": {
        "Checking": "1250.00", "Savings": "800.00", "Total Bank Accounts": "2050.00",
        "Accounts Receivable (A/R)": "3120.40", "Total Accounts Receivable": "3120.40",
        "Total Current Assets": "5170.40", "Original Cost": "12000.00", "Total Truck": "12000.00",
        "Total Fixed Assets": "12000.00", "TOTAL ASSETS": "17170.40",
        "Accounts Payable (A/P)": "1410.15", "Total Accounts Payable": "1410.15",
        "Total Current Liabilities": "1410.15", "Total Liabilities": "1410.15",
        "Opening Balance Equity": "9000.00", "Retained Earnings": "5230.25", "Net Income": "1530.00",
        "Total Equity": "15760.25", "TOTAL LIABILITIES AND EQUITY": "17170.40"}}
    details = {label: Decimal(amount) for label, amount in record["Details"].items()}
    assert details["TOTAL ASSETS"] == details["TOTAL LIABILITIES AND EQUITY"]
    # a month QuickBooks has no data for (before the company's first transaction): empty Details
    empty = sync_month_report([NO_DATA], start_date="2026-10-01T00:00:00Z",
                               quickbooks_now="2026-11-02T09:00:00-08:00")["records"][0]
    assert empty == {"ReportDate": "2026-10-01", "AsOfDate": "2026-10-31", "AccountingMethod": "Accrual", "Details": {}}


# A cash-basis ProfitAndLoss answer (GET /reports/ProfitAndLoss?accounting_method=Cash, one Total
# column), as Intuit lays one out: Income, Cost of Goods Sold, Gross Profit, Expenses, Net Income.
CASH_PROFIT_AND_LOSS = {
    "Header": {"Time": "2026-11-25T20:00:01-08:00", "ReportName": "ProfitAndLoss", "ReportBasis": "Cash",
               "StartPeriod": "2026-10-01", "EndPeriod": "2026-10-31", "SummarizeColumnsBy": "Total", "Currency": "USD",
               "Option": [{"Name": "AccountingStandard", "Value": "GAAP"}, {"Name": "NoReportData", "Value": "false"}]},
    "Columns": BALANCE_SHEET["Columns"],
    "Rows": {"Row": [
        section("Income", "Income", [account("Services", "1", "900.50"),
                                     account("Unapplied Cash Payment Income", "91", "40.00")], "Total Income", "940.50"),
        section("Cost of Goods Sold", "COGS", [account("Cost of Goods Sold", "80", "120.25")],
                "Total Cost of Goods Sold", "120.25"),
        {"Summary": {"ColData": [cell("Gross Profit"), cell("820.25")]}, "type": "Section", "group": "GrossProfit"},
        section("Expenses", "Expenses", [account("Rent or Lease", "17", "300.00")], "Total Expenses", "300.00"),
        {"Summary": {"ColData": [cell("Net Operating Income"), cell("520.25")]}, "type": "Section",
         "group": "NetOperatingIncome"},
        {"Summary": {"ColData": [cell("Net Income"), cell("520.25")]}, "type": "Section", "group": "NetIncome"}]},
    "time": "2026-11-25T20:00:01.512-08:00",
}


def test_the_cash_basis_profit_and_loss_is_asked_for_month_by_month_and_kept_as_its_rows():
    """profit_loss_cash_report asks QuickBooks' ProfitAndLoss with accounting_method=Cash for each
    month (the current one to QuickBooks' today) and keeps each row's label and amount."""
    run = sync_month_report([CASH_PROFIT_AND_LOSS], start_date="2026-10-01T00:00:00Z", stream="CashProfitAndLossReport")
    assert run["asked"] == [
        ["/v3/company/{realm_id}/reports/ProfitAndLoss",
         {"start_date": "2026-10-01", "end_date": "2026-10-31", "accounting_method": "Cash"}],
        ["/v3/company/{realm_id}/reports/ProfitAndLoss",
         {"start_date": "2026-11-01", "end_date": "2026-11-25", "accounting_method": "Cash"}]]
    assert run["records"][0] == {"ReportDate": "2026-10-01", "AsOfDate": "2026-10-31", "AccountingMethod": "Cash",
                                 "Details": {"Services": "900.50", "Unapplied Cash Payment Income": "40.00",
                                             "Total Income": "940.50", "Cost of Goods Sold": "120.25",
                                             "Total Cost of Goods Sold": "120.25", "Gross Profit": "820.25",
                                             "Rent or Lease": "300.00", "Total Expenses": "300.00",
                                             "Net Operating Income": "520.25", "Net Income": "520.25"}}
    assert [s["bookmarks"]["profit_loss_cash_report"]["LastUpdatedTime"] for s in run["states"]] == [
        "2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"]
    failed = sync_month_report([FAULT], start_date="2026-11-01T00:00:00Z", stream="CashProfitAndLossReport")
    assert failed["records"] == [] and failed["error"].startswith(
        "QuickBooks answered the ProfitAndLoss report of 2026-11 (stream profit_loss_cash_report, start_date=2026-11-01, "
        "end_date=2026-11-25, accounting_method=Cash) with a Fault")


def test_an_answer_that_is_not_a_report_stops_the_run_naming_the_stream_and_the_month():
    run = sync_month_report([BALANCE_SHEET, FAULT], start_date="2026-10-01T00:00:00Z")
    assert [r["ReportDate"] for r in run["records"]] == ["2026-10-01"]     # November was never loaded empty
    assert run["states"][-1]["bookmarks"]["balance_sheet_report"]["LastUpdatedTime"] == "2026-10-01T00:00:00+00:00"
    message = run["error"]
    assert message.startswith("QuickBooks answered the BalanceSheet report of 2026-11 (stream balance_sheet_report, "
                              "start_date=2026-11-01, end_date=2026-11-25, accounting_method=Accrual) with a Fault: An application error has "
                              "occurred while processing your request (code 10000, System Failure Error: Could not "
                              "generate the report), not a report.")
    assert "Fix: run again" in message
    # the wrapper's last line is that message, taken from the traceback's last line
    log = f"Traceback (most recent call last):\n  ...\ntap_quickbooks_wrapper.month_reports.NotAReport: {message}\n"
    assert diagnose(log) == message
    # an answer with neither rows nor columns (and no NoReportData) is no empty month either
    cut = sync_month_report([{"QueryResponse": {}, "time": "2026-11-25T20:00:02.100-08:00"}],
                             start_date="2026-11-01T00:00:00Z")
    assert cut["records"] == [] and "with no Columns and no Rows (its keys: QueryResponse, time)" in cut["error"]



@pytest.mark.parametrize("answer, text", [
    (FAULT, "a Fault: An application error has occurred while processing your request (code 10000, "
            "System Failure Error: Could not generate the report)"),
    ({"fault": {"error": [{"message": "Token expired", "code": "3200"}]}}, "a Fault: Token expired (code 3200)"),
    ({"Fault": {"type": "ValidationFault", "Error": ["not an object"]}}, "a Fault: ValidationFault (code ?)"),
    ({"Fault": {"Error": []}}, "a Fault: no message (code ?)"),
    ({"Fault": "Service unavailable"}, "a Fault: 'Service unavailable'"),
    ({"Fault": ["a", "list"]}, "a Fault: \"['a', 'list']\""),
    ({"Rows": {}}, None),
])
def test_every_shape_of_fault_reads_as_one_line_naming_it(answer, text):
    assert fault_text(answer) == text


def test_a_report_answer_whose_fault_is_text_stops_the_run_naming_it():
    run = sync_month_report([{"Fault": "Service unavailable"}], start_date="2026-11-01T00:00:00Z")
    assert run["records"] == []
    assert "(stream balance_sheet_report, start_date=2026-11-01, end_date=2026-11-25, accounting_method=Accrual) " \
           "with a Fault: 'Service unavailable', not a report." in run["error"]

# ---- preferences (preferences.py) ------------------------------------------------------------------
SYNC_PREFERENCES = r"""
import json, sys
from tap_quickbooks_wrapper import preferences
answer = json.load(sys.stdin)

class Client:
    asked = []
    def get(self, url, headers=None, params=None):
        self.asked.append(url)
        return answer

client = Client()
records, error = [], None
try:
    records = list(preferences.Preferences(client, {}, {}).sync())
except preferences.NotPreferences as failure:
    error = str(failure)
print(json.dumps({"records": records, "asked": client.asked, "error": error}))
"""

# GET /preferences in Intuit's shape (abridged): the settings in groups, with the entity's Id and MetaData.
PREFERENCES = {"Preferences": {
    "AccountingInfoPrefs": {"FirstMonthOfFiscalYear": "April", "UseAccountNumbers": True, "TaxYearMonth": "January"},
    "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "CAD"}},
    "ReportPrefs": {"ReportBasis": "Cash", "CalcAgingReportFromTxnDate": False},
    "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True},
    "domain": "QBO", "sparse": False, "Id": "1", "SyncToken": "6",
    "MetaData": {"CreateTime": "2024-01-02T09:00:00-08:00", "LastUpdatedTime": "2026-04-02T10:11:12-07:00"}},
    "time": "2026-11-25T20:00:01.512-08:00"}


def sync_preferences(answer) -> dict:
    done = subprocess.run([str(TAP_PYTHON), "-c", SYNC_PREFERENCES], input=json.dumps(answer), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_preferences_are_one_record_of_the_companys_settings_as_quickbooks_sends_them():
    synced = sync_preferences(PREFERENCES)
    assert synced["asked"] == ["/v3/company/{realm_id}/preferences"] and synced["error"] is None
    assert synced["records"] == [PREFERENCES["Preferences"]]


@pytest.mark.parametrize("answer, cause", [
    (FAULT, "a Fault: An application error has occurred while processing your request (code 10000, "
            "System Failure Error: Could not generate the report)"),
    ({"Fault": "throttled"}, "a Fault: 'throttled'"),
    ({"QueryResponse": {}, "time": "2026-11-25T20:00:02.100-08:00"},
     "no Preferences with an Id (its keys: QueryResponse, time)"),
    ({"Preferences": {"AccountingInfoPrefs": {}}}, "no Preferences with an Id (its keys: Preferences)"),
    ("<html>Service unavailable</html>", "a str ('<html>Service unavailable</html>')"),
])
def test_an_answer_that_is_not_the_preferences_stops_the_run_naming_the_stream(answer, cause):
    synced = sync_preferences(answer)
    assert synced["records"] == []
    assert f"(stream preferences, GET /v3/company/{{realm_id}}/preferences) with {cause}." in synced["error"]
    assert "Fix: run again" in synced["error"]


def test_the_shipped_catalog_selects_our_streams_as_the_taps_own_discovery_describes_them():
    """guarded_tap.run() registers our streams (the month reports and the preferences) in the
    tap's STANDARD_STREAMS (its do_sync refuses a stream it does not know) and in its discovery;
    the catalog Meltano passes holds their entries, selected, and vendor_credits (the ledger needs
    them) selected."""
    code = ("import json\nfrom tap_quickbooks_wrapper import month_reports, preferences\n"
            "month_reports.register([])\npreferences.register()\n"
            "from tap_quickbooks.discover import do_discover\nfrom tap_quickbooks.streams import STANDARD_STREAMS\n"
            "print(json.dumps({'standard': sorted(STANDARD_STREAMS), 'streams': do_discover().to_dict()['streams']}))")
    done = subprocess.run([str(TAP_PYTHON), "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    discovered = json.loads(done.stdout)
    assert discovered["standard"] == ["balance_sheet_report", "deleted_objects", "preferences",
                                      "profit_loss_cash_report", "profit_loss_report"]
    shipped = {s["tap_stream_id"]: s for s in json.loads((PROJECT / "extract/quickbooks/catalog.json").read_text())["streams"]}

    def root(stream: dict) -> dict:
        return next(m["metadata"] for m in stream["metadata"] if not m["breadcrumb"])

    for name in ("balance_sheet_report", "profit_loss_cash_report"):
        entry = json.loads(json.dumps(shipped[name]))
        assert root(entry).pop("selected") is True
        assert entry == next(s for s in discovered["streams"] if s["tap_stream_id"] == name)
        assert root(entry) == {k: v for k, v in root(shipped["profit_loss_report"]).items() if k != "selected"}
    preferences = json.loads(json.dumps(shipped["preferences"]))
    assert root(preferences).pop("selected") is True
    assert preferences == next(s for s in discovered["streams"] if s["tap_stream_id"] == "preferences")
    assert root(shipped["vendor_credits"])["selected"] is True


# Every integer the shipped catalog still types as such is one QuickBooks documents as a whole
# number. The tap's Transformer turns a value of an "integer" field with int(): 1.5 hours became 1,
# silently. Quantities, on-hand counts, a credit's remainder and an hourly rate are decimals.
# TaxExemptionReasonId is text in Intuit's schema holding the codes "1" to "16": int() keeps them,
# and a code that is no number would fail its record loudly, not truncate it.
WHOLE_NUMBER_FIELDS = {
    "LineNum", "Level", "TaxOrder", "CcExpiryMonth", "CcExpiryYear", "TaxExemptionReasonId",
    "DueDays", "DiscountDays", "DayOfMonthDue", "DiscountDayOfMonth", "DueNextMonthDays",
    "Hours", "Minutes", "BreakHours", "BreakMinutes",
}


def integer_fields(schema: dict, path: str = "") -> list[str]:
    """Paths of the fields typed integer (and not singer.decimal) in a stream's schema."""
    found = []
    for name, field in schema.get("properties", {}).items():
        types = field.get("type", [])
        if "integer" in types and field.get("format") != "singer.decimal":
            found.append(f"{path}{name}")
        found += integer_fields(field, f"{path}{name}.")
        found += integer_fields(field.get("items", {}), f"{path}{name}[].")
    return found


def test_the_shipped_catalog_types_no_decimal_quickbooks_field_as_an_integer():
    catalog = json.loads((PROJECT / "extract/quickbooks/catalog.json").read_text())
    integers = {f"{s['tap_stream_id']}.{path}" for s in catalog["streams"] for path in integer_fields(s["schema"])}
    assert integers and {path.rsplit(".", 1)[-1].rstrip("[]") for path in integers} <= WHOLE_NUMBER_FIELDS, sorted(integers)


def test_fractional_quantities_rates_and_credits_pass_the_taps_own_transformer_whole():
    """The records the tap writes go through singer's Transformer with the shipped catalog's
    schema: a quantity of 1.5 (hours), a bundle component's 2.25, 12.5 on hand, a remaining credit
    of 10.25 and an hourly rate of 42.5 reach the target exactly."""
    code = """
import json, sys
from singer import Transformer
streams = {s['tap_stream_id']: s['schema'] for s in json.load(open(sys.argv[1]))['streams']}
records = {
  'invoices': {'Id': '1', 'Line': [
      {'Id': '1', 'Amount': 225.0, 'DetailType': 'SalesItemLineDetail', 'SalesItemLineDetail': {'Qty': 1.5, 'UnitPrice': 150}},
      {'Id': '2', 'Amount': 45.0, 'DetailType': 'GroupLineDetail', 'GroupLineDetail': {'Quantity': 1, 'Line': [
          {'Id': '3', 'Amount': 45.0, 'DetailType': 'SalesItemLineDetail', 'SalesItemLineDetail': {'Qty': 2.25, 'UnitPrice': 20}}]}}]},
  'bills': {'Id': '1', 'Line': [{'Id': '1', 'Amount': 7.5, 'DetailType': 'ItemBasedExpenseLineDetail',
                                 'ItemBasedExpenseLineDetail': {'Qty': 0.5, 'UnitPrice': 15}}]},
  'items': {'Id': '1', 'QtyOnHand': 12.5},
  'credit_memos': {'Id': '1', 'RemainingCredit': 10.25},
  'time_activities': {'Id': '1', 'HourlyRate': 42.5, 'Hours': 3, 'Minutes': 30},
}
with Transformer() as transformer:
    print(json.dumps({name: transformer.transform(record, streams[name]) for name, record in records.items()}))
"""
    done = subprocess.run([str(TAP_PYTHON), "-c", code, str(PROJECT / "extract/quickbooks/catalog.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    written = json.loads(done.stdout)
    lines = written["invoices"]["Line"]
    assert Decimal(lines[0]["SalesItemLineDetail"]["Qty"]) == Decimal("1.5")
    assert Decimal(lines[1]["GroupLineDetail"]["Line"][0]["SalesItemLineDetail"]["Qty"]) == Decimal("2.25")
    assert Decimal(written["bills"]["Line"][0]["ItemBasedExpenseLineDetail"]["Qty"]) == Decimal("0.5")
    assert Decimal(written["items"]["QtyOnHand"]) == Decimal("12.5")
    assert Decimal(written["credit_memos"]["RemainingCredit"]) == Decimal("10.25")
    assert Decimal(written["time_activities"]["HourlyRate"]) == Decimal("42.5")
    assert (written["time_activities"]["Hours"], written["time_activities"]["Minutes"]) == (3, 30)


# ---- transform_speedups.py: the same records, faster ---------------------------------------------
SPEEDUPS_AGAINST_THE_LIBRARY = r"""
import copy, datetime as dt, importlib, json, random, sys
import singer.utils
from singer import Transformer
from singer.schema import Schema
from tap_quickbooks_wrapper import transform_speedups

def outcome(parse, value):
    try:
        return singer.utils.strftime(parse(value))
    except Exception as error:
        return type(error).__name__

values = ["2026-03-04T10:11:12-08:00", "2026-03-04", "2026-03-04T10:11:12Z", "2026-03-04T10:11:12.5-07:00",
          "2026-03-04T10:11:12.123456+05:30", "2026-03-04T23:59:59-12:00", "2024-02-29", "2026-02-30",
          "2026-13-01", "2026-03-04T24:00:00Z", "03/04/2026", "2026-03-04 10:11:12", "2026-03-04T10:11:12.1234567Z",
          "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-03-04T10:11", "garbage", "2026"]
rng = random.Random(7)
for _ in range(3000):
    moment = dt.datetime(2000, 1, 1) + dt.timedelta(seconds=rng.randrange(40 * 365 * 86400))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(["", ".5", ".123", ".000001"])
    offset = rng.choice(["", "Z", f"{rng.choice('+-')}{rng.randrange(15):02d}:{rng.choice([0, 30, 45]):02d}"])
    values.append(text + offset if rng.random() < 0.9 else text[:10])
transform_module = importlib.import_module("singer.transform")
library = {value: outcome(transform_module.strptime_to_utc, value) for value in values}

catalog = {s["tap_stream_id"]: s for s in json.load(open(sys.argv[1]))["streams"]}
records = json.load(open(sys.argv[2]))

def made_up(schema, depth=0):   # a value the schema allows, or now and then one it does not
    roll = rng.random()
    if roll < 0.04:
        return rng.choice([None, "", "x", "1,234", "false", "True", 0, 1, -2.5, True, [], {}, [1, "a"], {"odd": 1},
                           "2026-02-30", "NaN", "sNaN", "1e3", " 7 "])
    if "anyOf" in schema:
        return made_up(rng.choice(schema["anyOf"]), depth)
    types = schema.get("type", ["string"])
    types = [t for t in (types if isinstance(types, list) else [types]) if t != "null"] or ["null"]
    if roll < 0.12:
        return rng.choice([None, ""])
    typ = rng.choice(types)
    if typ == "object":
        if depth > 4:
            return {}
        value = {key: made_up(sub, depth + 1) for key, sub in schema.get("properties", {}).items() if rng.random() < 0.6}
        if rng.random() < 0.3:   # QuickBooks sends fields the schema lacks (sparse, domain, SubTotalLineDetail)
            value[rng.choice(["sparse", "domain", "SubTotalLineDetail", "Extra"])] = rng.choice([False, "QBO", {"a": [1]}])
        return value
    if typ == "array":
        return [made_up(schema.get("items", {}), depth + 1) for _ in range(rng.randrange(4))]
    if schema.get("format") == "date-time":
        return rng.choice(values)
    if schema.get("format") == "singer.decimal":
        return rng.choice([12.5, "0.10", 3, "1E+2", "-0.00", 1e-7])
    return {"string": lambda: rng.choice(["Ana", "7", "", "ü\u0000"]), "integer": lambda: rng.choice([3, "4", "1,000", 2.9]),
            "number": lambda: rng.choice([1.5, "2", "3,000.5"]), "boolean": lambda: rng.choice([True, "false", "FALSE", 0])
            }.get(typ, lambda: "?")()

def made_up_metadata(stream):   # the catalog's, with fields deselected, unsupported, automatic, nested
    entries = {tuple(m["breadcrumb"]): dict(m["metadata"]) for m in stream["metadata"]}
    for breadcrumb in list(entries)[1:]:
        roll = rng.random()
        if roll < 0.05:
            entries[breadcrumb]["selected"] = False
        elif roll < 0.08:
            entries[breadcrumb]["inclusion"] = "unsupported"
        elif roll < 0.10:
            entries[breadcrumb]["inclusion"] = "automatic"
    for _ in range(3):
        field = rng.choice(list(entries)[1:] or [("properties", "Id")])
        nested = rng.choice([("properties", "value"), ("items", "properties", "Amount"), ("items",), ("properties", "name")])
        entries[field + nested] = rng.choice([{"selected": False}, {"inclusion": "unsupported"}, {"inclusion": "available"}])
    return rng.choice([entries, entries, {}, None])

cases = [(name, record, None) for name, rows in records.items() for record in rows]
for name, stream in catalog.items():
    for _ in range(120):
        cases.append((name, made_up(stream["schema"]), made_up_metadata(stream)))
def transformed():   # each record as written, or the error that stopped it, and what was noted on the way
    # (schemas of their own: the library reorders a schema's types as it walks it, and its error
    # messages show them)
    schemas = {name: Schema.from_dict(copy.deepcopy(catalog[name]["schema"])) for name in catalog}
    written = []
    for name, record, metadata in cases:
        transformer = Transformer()
        try:
            outcome = transformer.transform(copy.deepcopy(record), schemas[name].to_dict(), copy.deepcopy(metadata))
        except Exception as error:
            outcome = f"{type(error).__name__}: {error}"
        # (as JSON: a number made of "NaN" is no equal of itself)
        written.append(json.dumps([name, outcome, sorted(transformer.removed), sorted(transformer.filtered)]))
    return written
schemas = {name: Schema.from_dict(catalog[name]["schema"]) for name in catalog}
before, dicts_before = transformed(), {name: schema.to_dict() for name, schema in schemas.items()}
transform_speedups.install()
fast = {value: outcome(transform_module.strptime_to_utc, value) for value in values}
after = transformed()
print(json.dumps({"dates": [[v, library[v], fast[v]] for v in values if library[v] != fast[v]],
                  "checked": len(values), "records_equal": after == before,
                  "differing": [[b, a] for b, a in zip(before, after) if b != a][:3], "records": len(cases),
                  "removed": sum(bool(json.loads(b)[2]) for b in before),
                  "filtered": sum(bool(json.loads(b)[3]) for b in before),
                  "mismatches": sum(isinstance(json.loads(b)[1], str) for b in before),
                  "dicts_equal": {name: schema.to_dict() for name, schema in schemas.items()} == dicts_before,
                  "reused": all(schema.to_dict() is schema.to_dict() for schema in schemas.values()),
                  "stopped": [json.loads(b)[1] for b in before[:len(cases) - 120 * len(catalog)]
                              if isinstance(json.loads(b)[1], str)]}))
"""

# Records as QuickBooks sends them (abridged), with every kind of date and time it uses.
SAMPLE_RECORDS = {
    "invoices": [{"Id": "1", "TxnDate": "2026-03-04", "DueDate": "2026-04-03", "TotalAmt": 225.0,
                  "MetaData": {"CreateTime": "2026-03-04T10:11:12-08:00", "LastUpdatedTime": "2026-03-05T01:02:03.5-08:00"},
                  "Line": [{"Id": "1", "Amount": 225.0, "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"Qty": 1.5, "UnitPrice": 150, "ServiceDate": "2026-03-01"}}],
                  "CustomerRef": {"value": "7", "name": "Ana"}}],
    "payments": [{"Id": "2", "TxnDate": "2026-03-06", "TotalAmt": "100.00",
                  "MetaData": {"CreateTime": "2026-03-06T00:00:00Z", "LastUpdatedTime": "not a time"}}],
}


def test_the_speed_ups_give_the_records_and_times_the_library_gave(tmp_path):
    """Each date-time the standard library now parses becomes what dateutil made of it (3,000
    random ISO values, and the odd ones: invalid days, other shapes, overflow, garbage), and the
    tap's Transformer, compiled per schema, gives what the library's gave: the same records, the
    same errors, the same fields noted as removed or filtered. The records are the samples below
    and 120 made up from each stream's schema, with wrong types, nulls, empty strings, fields the
    schema lacks, bad times, and metadata deselecting, hiding or forcing fields at any depth."""
    sample = tmp_path / "records.json"
    sample.write_text(json.dumps(SAMPLE_RECORDS))
    done = subprocess.run([str(TAP_PYTHON), "-c", SPEEDUPS_AGAINST_THE_LIBRARY,
                           str(PROJECT / "extract/quickbooks/catalog.json"), str(sample)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["checked"] > 3000 and found["dates"] == []
    assert found["differing"] == [] and found["records_equal"]
    assert found["dicts_equal"] and found["reused"]
    # the made-up records reached every path: fields removed, fields filtered, records stopped
    assert found["records"] > 2500 and min(found["removed"], found["filtered"], found["mismatches"]) > 100, found
    # a time that is no time still stops its record, as the library did
    assert [error.split(":")[0] for error in found["stopped"]] == ["SchemaMismatch"]
