"""The QuickBooks simulator over real HTTP, through the intercepting proxy (as the tap sees it)."""
from __future__ import annotations

import base64
import datetime as dt
import json
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests

from conftest import OAUTH, QBO, BASE
from tributary_sandbox.vendors import quickbooks as q
from tributary_sandbox.vendors.quickbooks.data import local_date, parse_time
from tributary_sandbox.world import HISTORY_DAYS

D = lambda x: Decimal(str(x))  # noqa: E731  money as exact decimals


# ---- OAuth -------------------------------------------------------------------------------------
def test_refresh_token_rotates_after_24h_and_old_one_dies(sim):
    first = sim.refresh()
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["refresh_token"] == q.INITIAL_REFRESH_TOKEN           # young token: returned unchanged
    sim.ctl("POST", "/_sandbox/clock", {"advance_days": 1})
    rotated = sim.refresh().json()["refresh_token"]
    assert rotated != q.INITIAL_REFRESH_TOKEN
    old = sim.refresh()
    assert old.status_code == 400 and old.json() == {"error": "invalid_grant"}
    assert sim.ctl("GET", "/_sandbox/quickbooks/tokens")["refresh_token"] == rotated
    # 30 days of daily runs: each day the token rotates and the chain keeps working.
    token = rotated
    for _ in range(30):
        sim.ctl("POST", "/_sandbox/clock", {"advance_days": 1})
        resp = sim.refresh(token)
        assert resp.status_code == 200
        token = resp.json()["refresh_token"]


def test_oauth_errors(sim):
    assert sim.refresh(client_secret="nope").status_code == 401
    assert sim.refresh(client_secret="nope").json() == {"error": "invalid_client"}
    assert sim.refresh("made-up").json() == {"error": "invalid_grant"}
    # HTTP Basic client authentication works too.
    basic = base64.b64encode(f"{q.CLIENT_ID}:{q.CLIENT_SECRET}".encode()).decode()
    resp = sim.vendor("POST", OAUTH, data={"grant_type": "refresh_token", "refresh_token": q.INITIAL_REFRESH_TOKEN},
                      headers={"Authorization": f"Basic {basic}"})
    assert resp.status_code == 200
    # Unused for more than 100 days → invalid_grant.
    sim.ctl("POST", "/_sandbox/clock", {"advance_days": 101})
    assert sim.refresh().json() == {"error": "invalid_grant"}


def test_the_revocation_endpoint_refuses_strangers_and_bad_bodies_and_keeps_a_connection_it_does_not_know(sim):
    revoke = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    basic = {"Authorization": "Basic " + base64.b64encode(f"{q.CLIENT_ID}:{q.CLIENT_SECRET}".encode()).decode()}
    stranger = {"Authorization": "Basic " + base64.b64encode(b"someone:else").decode()}
    assert sim.vendor("POST", revoke, json={"token": "x"}, headers=stranger).status_code == 401
    assert sim.vendor("POST", revoke, json={"token": "x"}).status_code == 401            # no client at all
    for junk in ("not json", "[]", '{"no_token": 1}'):
        resp = sim.vendor("POST", revoke, data=junk, headers={**basic, "Content-Type": "application/json"})
        assert resp.status_code == 400 and resp.json() == {"error": "invalid_request"}, junk
    assert sim.vendor("POST", revoke, json={"token": "never-issued"}, headers=basic).status_code == 200
    assert sim.refresh().status_code == 200   # an unknown token revoked nothing


def test_revoke_kills_refresh_tokens(sim):
    assert sim.refresh().status_code == 200
    sim.ctl("POST", "/_sandbox/quickbooks/revoke")
    resp = sim.refresh()
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_access_token_expires_after_an_hour(sim):
    assert sim.api("GET", f"/companyinfo/{q.REALM_ID}").json()["CompanyInfo"]["CompanyName"]
    sim.ctl("POST", "/_sandbox/clock", {"advance_seconds": 3601})
    resp = sim.api("GET", f"/companyinfo/{q.REALM_ID}")
    assert resp.status_code == 401
    err = resp.json()["fault"]["error"][0]
    assert err["code"] == "3200" and "AuthenticationFailed" in err["message"]
    bogus = sim.vendor("GET", QBO + BASE + f"/companyinfo/{q.REALM_ID}", headers={"Authorization": "Bearer x"})
    assert bogus.status_code == 401


# ---- queries -----------------------------------------------------------------------------------
def _tap_style_batch(sim, streams: dict[str, str | None], bookmark="2024-01-01T00:00:00Z", page=1000):
    """Replays tap-quickbooks' batch loop; returns rows per entity and every raw answer."""
    start = {e: 1 for e in streams}
    rows = {e: [] for e in streams}
    answers = []
    while True:
        items = [{"bId": e, "Query": f"SELECT * FROM {e} WHERE Metadata.LastUpdatedTime >= '{bookmark}'"
                  + (f" AND {extra}" if extra else "")
                  + f" ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION {start[e]} MAXRESULTS {page}"}
                 for e, extra in streams.items()]
        resp = sim.api("POST", "/batch", data=json.dumps({"BatchItemRequest": items}),
                       headers={"Content-Type": "application/json"})
        assert resp.status_code == 200, resp.text
        got = resp.json()["BatchItemResponse"]
        answers.append(got)
        if not [r for r in got if r.get("QueryResponse", {}).get("maxResults")]:
            return rows, answers
        for r in got:
            qr = r["QueryResponse"]
            keys = qr.keys() - {"startPosition", "maxResults", "totalCount"}
            if keys:
                (entity,) = keys
                rows[entity] += qr[entity]
                start[entity] += len(qr[entity])


def test_batch_pages_to_the_end(sim):
    truth = sim.ctl("GET", "/_sandbox/quickbooks/truth")
    rows, answers = _tap_style_batch(sim, {"Invoice": None, "Customer": "Active IN (true, false)", "Term": "Active IN (true, false)"},
                                     bookmark="2000-01-01T00:00:00Z", page=300)
    assert len(rows["Invoice"]) == truth["counts"]["Invoice"] == len({r["Id"] for r in rows["Invoice"]})
    assert len(rows["Customer"]) == truth["counts"]["Customer"]
    assert len(rows["Term"]) == truth["counts"]["Term"]
    # An exhausted item answers an empty QueryResponse; the last round has only those.
    assert all(r["QueryResponse"] == {} for r in answers[-1])
    stamps = [parse_time(r["MetaData"]["LastUpdatedTime"]) for r in rows["Invoice"]]
    assert stamps == sorted(stamps)


def item_lines(lines: list) -> list[dict]:
    """The item lines of a sales form, a bundle's (GroupLineDetail) components in its place."""
    return [part for ln in lines if ln["DetailType"] in ("SalesItemLineDetail", "GroupLineDetail")
            for part in (ln["GroupLineDetail"]["Line"] if ln["DetailType"] == "GroupLineDetail" else [ln])]


def test_invoice_json_is_consistent(sim):
    bundles = half_hours = 0
    for inv in sim.all_rows("Invoice", where=None):
        lines = item_lines(inv["Line"])
        sub = sum(D(ln["Amount"]) for ln in lines)
        for ln in lines:
            d = ln["SalesItemLineDetail"]
            assert D(ln["Amount"]) == D(d["UnitPrice"]) * D(str(d["Qty"]))
            half_hours += D(str(d["Qty"])) % 1 != 0
        for group in (ln for ln in inv["Line"] if ln["DetailType"] == "GroupLineDetail"):
            parts = group["GroupLineDetail"]["Line"]
            assert len(parts) == 2 and "Amount" not in group   # as Intuit documents a group line
            bundles += 1
        (subtotal,) = [ln for ln in inv["Line"] if ln["DetailType"] == "SubTotalLineDetail"]
        assert D(subtotal["Amount"]) == sub
        assert D(inv["TotalAmt"]) == sub + D(inv["TxnTaxDetail"]["TotalTax"])
        assert isinstance(inv["Id"], str) and isinstance(inv["SyncToken"], str)
    assert bundles and half_hours   # both shapes of real books are served
    payments = sim.all_rows("Payment", where=None)
    paid: dict[str, Decimal] = {}
    for p in payments:
        for ln in p["Line"]:
            for link in ln["LinkedTxn"]:
                paid[link["TxnId"]] = paid.get(link["TxnId"], Decimal(0)) + D(ln["Amount"])
    for inv in sim.all_rows("Invoice", where=None):
        assert D(inv["Balance"]) == D(inv["TotalAmt"]) - paid.get(inv["Id"], Decimal(0))


def test_active_filter_on_name_lists(sim):
    truth = sim.ctl("GET", "/_sandbox/quickbooks/truth")
    for entity in ("Customer", "Account", "Item", "Class", "PaymentMethod"):
        everything = sim.all_rows(entity)
        active_only = sim.all_rows(entity, where=None)
        assert len(everything) == truth["counts"][entity]
        assert len(active_only) == truth["active_counts"][entity] < len(everything), entity
        assert all(r["Active"] for r in active_only)
    inactive = sim.query("SELECT * FROM Customer WHERE Active = false")
    assert inactive and all(not r["Active"] for r in inactive["Customer"])


def test_time_filters_compare_as_datetimes(sim):
    rows = sim.all_rows("Invoice", where=None)
    pivot = rows[len(rows) // 2]["MetaData"]["LastUpdatedTime"]          # e.g. 2025-03-04T10:11:12-08:00
    as_utc = parse_time(pivot).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    a = sim.query(f"SELECT COUNT(*) FROM Invoice WHERE Metadata.LastUpdatedTime >= '{pivot}'")["totalCount"]
    b = sim.query(f"SELECT COUNT(*) FROM Invoice WHERE Metadata.LastUpdatedTime >= '{as_utc}'")["totalCount"]
    c = sim.query(f"SELECT COUNT(*) FROM Invoice WHERE Metadata.LastUpdatedTime < '{pivot}'")["totalCount"]
    assert a == b and a + c == len(rows)
    one = sim.query(f"SELECT * FROM Invoice WHERE Id = '{rows[0]['Id']}'")
    assert [r["Id"] for r in one["Invoice"]] == [rows[0]["Id"]]


def test_query_errors(sim):
    bad = sim.api("GET", "/query", params={"query": "SELECT Id FROM Invoice WHERE DocNumber LIKE '%1'"})
    assert bad.status_code == 400 and bad.json()["Fault"]["Error"][0]["code"] == "4000"
    old = sim.api("GET", "/query", params={"query": "SELECT * FROM Invoice", "minorversion": "65"})
    assert old.status_code == 400 and "Fault" in old.json()
    too_many = {"BatchItemRequest": [{"bId": str(i), "Query": "SELECT * FROM Term"} for i in range(31)]}
    resp = sim.api("POST", "/batch", data=json.dumps(too_many), headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "Fault" in resp.json()
    # A bad item inside a batch is a per-item Fault, the rest still answer.
    mixed = {"BatchItemRequest": [{"bId": "a", "Query": "SELECT * FROM Term"}, {"bId": "b", "Query": "SELECT * FROM Nope"}]}
    got = sim.api("POST", "/batch", data=json.dumps(mixed), headers={"Content-Type": "application/json"}).json()
    assert "Term" in got["BatchItemResponse"][0]["QueryResponse"] and "Fault" in got["BatchItemResponse"][1]


def test_sorts_on_true_false_ids_and_refusals(sim):
    def ids(query: str) -> list[str]:
        return [c["Id"] for c in sim.query(query).get("Customer", [])]
    active_last = ids("SELECT * FROM Customer WHERE Active IN (true, false) ORDER BY Active MAXRESULTS 1000")
    every = sim.query("SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000")["Customer"]
    flags = {c["Id"]: c["Active"] for c in every}
    assert [flags[i] for i in active_last] == sorted(flags[i] for i in active_last)
    by_ref = sim.query("SELECT * FROM Invoice ORDER BY CustomerRef MAXRESULTS 1000")["Invoice"]
    refs = [int(i["CustomerRef"]["value"]) for i in by_ref]
    assert refs == sorted(refs)   # ids by value: 2 before 10
    for whole in ("BillAddr", "Line", "MetaData"):
        refused = sim.api("GET", "/query", params={"query": f"SELECT * FROM Invoice ORDER BY {whole}"})
        assert refused.status_code == 400 and refused.json()["Fault"]["Error"][0]["code"] == "4001", whole


def test_a_fault_rule_with_a_count_that_is_not_a_whole_number_is_refused(sim):
    for bad in ({"count": "2"}, {"count": 0}, {"after": None}, {"after": -1}, {"count": True}):
        resp = sim.http.post(sim.control + "/_sandbox/faults", timeout=30,
                             json={"rules": [{"vendor": "quickbooks", "kind": "drop", **bad}]})
        assert resp.status_code == 400 and "whole number" in resp.json()["error"], bad
    assert sim.ctl("GET", "/_sandbox/faults")["rules"] == []


# ---- change data capture and mutations ---------------------------------------------------------
def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_mutate_and_cdc(sim):
    before = sim.ctl("GET", "/_sandbox/quickbooks/truth")
    since = _iso(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    changes = sim.ctl("POST", "/_sandbox/quickbooks/mutate", {"seed": 7, "new": 5, "updated": 5, "deleted": 2})["changes"]
    kinds = [(c["entity"], c["kind"]) for c in changes]
    assert kinds.count(("Invoice", "new")) == 5 and kinds.count(("Invoice", "updated")) == 5
    assert kinds.count(("Invoice", "deleted")) == 2 and ("Customer", "new") in kinds
    after = sim.ctl("GET", "/_sandbox/quickbooks/truth")
    assert after["counts"]["Invoice"] == before["counts"]["Invoice"] + 5 - 2
    deleted_ids = {c["Id"] for c in changes if c["kind"] == "deleted"}
    live_ids = {r["Id"] for r in sim.all_rows("Invoice", where=None)}
    assert not deleted_ids & live_ids
    for c in changes:
        if c["kind"] == "updated" and c["entity"] == "Invoice":
            (inv,) = sim.query(f"SELECT * FROM Invoice WHERE Id = '{c['Id']}'")["Invoice"]
            assert int(inv["SyncToken"]) >= 1
    resp = sim.api("GET", "/cdc", params={"entities": "Invoice,Customer,Payment", "changedSince": since})
    assert resp.status_code == 200, resp.text
    answer = resp.json()["CDCResponse"][0]["QueryResponse"]
    invoices = next(e["Invoice"] for e in answer if "Invoice" in e)
    assert {r["Id"] for r in invoices if r.get("status") == "Deleted"} == deleted_ids
    changed = {r["Id"] for r in invoices if r.get("status") != "Deleted"}
    assert changed == {c["Id"] for c in changes if c["entity"] == "Invoice" and c["kind"] != "deleted"}
    assert all(r["domain"] == "QBO" and r["MetaData"]["LastUpdatedTime"] for r in invoices)
    # The 30-day look-back rule.
    old = sim.api("GET", "/cdc", params={"entities": "Invoice", "changedSince": _iso(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31))})
    assert old.status_code == 400 and "older than" in old.json()["Fault"]["Error"][0]["Detail"]
    # The P&L of the last 30 days follows the mutations (reports are computed from served data).
    assert after["pl_by_month"] != before["pl_by_month"]


def test_cdc_answers_at_most_1000_objects(sim):
    sim.ctl("POST", "/_sandbox/quickbooks/mutate", {"seed": 1, "new": 1005})
    since = _iso(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    answer = sim.api("GET", "/cdc", params={"entities": "Invoice,Customer", "changedSince": since}).json()
    total = sum(len(v) for e in answer["CDCResponse"][0]["QueryResponse"] for v in e.values() if isinstance(v, list))
    assert total == 1000


# ---- reports -----------------------------------------------------------------------------------
PL_TYPES = {"Income": -1, "Cost of Goods Sold": 1, "Expense": 1, "Other Expense": 1}


def _pl_from_transactions(sim, start: str, end: str) -> dict[str, Decimal]:
    """Independent accrual P&L from raw transactions: {account name: amount in natural sign}, in
    the home currency: a foreign-currency line at its transaction's ExchangeRate, to the cent; a
    payment in a foreign currency gains or loses what its money and its invoices' (or bills')
    rates set apart."""
    accounts = {a["Id"]: a for a in sim.all_rows("Account")}
    items = {i["Id"]: i for i in sim.all_rows("Item")}
    out: dict[str, Decimal] = {}

    def home(amount, t) -> Decimal:
        return (Decimal(amount) * Decimal(str(t.get("ExchangeRate", 1)))).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def add(acct_id, amount, t=None):
        a = accounts[acct_id]
        if a["AccountType"] in PL_TYPES:
            out[a["Name"]] = out.get(a["Name"], Decimal(0)) + (home(amount, t) if t else amount)

    for entity, form_entity, sign in (("Payment", "Invoice", 1), ("BillPayment", "Bill", -1)):
        forms = {f["Id"]: f for f in sim.all_rows(form_entity, where=None)}
        for t in sim.all_rows(entity, where=None):
            if "ExchangeRate" in t and start <= t["TxnDate"] <= end:
                settled = sum(home(D(str(ln["Amount"])), forms[ln["LinkedTxn"][0]["TxnId"]]) for ln in t["Line"])
                loss = sign * (settled - home(D(str(t["TotalAmt"])), t))
                gain_or_loss = next(a["Id"] for a in accounts.values() if a["AccountSubType"] == "ExchangeGainOrLoss")
                add(gain_or_loss, loss)

    for entity, sign in (("Invoice", 1), ("SalesReceipt", 1), ("CreditMemo", -1), ("RefundReceipt", -1)):
        for t in sim.all_rows(entity, where=None):
            if not start <= t["TxnDate"] <= end:
                continue
            for ln in item_lines(t["Line"]):
                item = items[ln["SalesItemLineDetail"]["ItemRef"]["value"]]
                add(item["IncomeAccountRef"]["value"], sign * D(ln["Amount"]), t)
                if item["Type"] == "Inventory":
                    add(item["ExpenseAccountRef"]["value"], sign * D(str(ln["SalesItemLineDetail"]["Qty"])) * D(item["PurchaseCost"]))
    for entity, sign in (("Bill", 1), ("Purchase", 1), ("VendorCredit", -1)):
        for t in sim.all_rows(entity, where=None):
            if start <= t["TxnDate"] <= end:
                for ln in t["Line"]:
                    add(ln["AccountBasedExpenseLineDetail"]["AccountRef"]["value"], sign * D(ln["Amount"]), t)
    for t in sim.all_rows("JournalEntry", where=None):
        if start <= t["TxnDate"] <= end:
            for ln in t["Line"]:
                d = ln["JournalEntryLineDetail"]
                debit = (1 if d["PostingType"] == "Debit" else -1) * D(ln["Amount"])
                add(d["AccountRef"]["value"], -debit if accounts[d["AccountRef"]["value"]]["AccountType"] == "Income" else debit)
    return out          # natural signs: income and expenses both positive


def _flatten(rows, out):
    for row in rows:
        if "ColData" in row:
            out.append(row["ColData"])
        if "Rows" in row:
            _flatten(row["Rows"]["Row"], out)
        if "Summary" in row:
            out.append(row["Summary"]["ColData"])
    return out


def test_profit_and_loss_days_reconciles_with_transactions(sim):
    end = dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=29)
    resp = sim.api("GET", "/reports/ProfitAndLoss", params={"summarize_column_by": "Days", "start_date": start.isoformat(),
                                                           "end_date": end.isoformat()})
    rep = resp.json()
    cols = rep["Columns"]["Column"]
    assert len(cols) == 30 + 2 and cols[-1]["ColTitle"] == "Total"
    assert cols[1]["MetaData"][0] == {"Name": "StartDate", "Value": start.isoformat()}
    assert cols[1]["ColTitle"] == f"{start:%b} {start.day}, {start.year}"
    lines = _flatten(rep["Rows"]["Row"], [])
    labels = [ln[0]["value"] for ln in lines]
    assert len(labels) == len(set(labels))                                  # the tap keys rows by label
    for label in ("Total Income", "Total Cost of Goods Sold", "Gross Profit", "Total Expenses", "Net Operating Income", "Net Income"):
        assert label in labels
    by_label = {ln[0]["value"]: ln[1:] for ln in lines}
    for cells in by_label.values():                                          # day cells add up to Total
        assert sum(D(c["value"] or "0") for c in cells[:-1]) == D(cells[-1]["value"])
    expected = _pl_from_transactions(sim, start.isoformat(), end.isoformat())
    reported = {ln[0]["value"]: D(ln[-1]["value"]) for ln in lines if "id" in ln[0]}
    assert reported == {k: v for k, v in expected.items() if v or k in reported}
    income = sum(v for k, v in expected.items() if k in ("Sales of Product Income", "Services", "Shipping Income"))
    assert D(by_label["Total Income"][-1]["value"]) == income
    assert D(by_label["Net Income"][-1]["value"]) == income - sum(v for k, v in expected.items()
                                                                   if k not in ("Sales of Product Income", "Services", "Shipping Income"))


def test_profit_and_loss_total_and_month_columns(sim):
    total = sim.api("GET", "/reports/ProfitAndLoss", params={"start_date": "2025-01-01", "end_date": "2025-03-31"}).json()
    assert [c["ColTitle"] for c in total["Columns"]["Column"]] == ["", "Total"]
    months = sim.api("GET", "/reports/ProfitAndLoss", params={"summarize_column_by": "Month", "start_date": "2025-01-01",
                                                             "end_date": "2025-03-31"}).json()
    assert [c["ColTitle"] for c in months["Columns"]["Column"]] == ["", "Jan 2025", "Feb 2025", "Mar 2025", "Total"]
    t = {ln[0]["value"]: ln[-1]["value"] for ln in _flatten(total["Rows"]["Row"], [])}
    m = {ln[0]["value"]: ln[-1]["value"] for ln in _flatten(months["Rows"]["Row"], [])}
    assert t == m


def test_profit_and_loss_truth_is_the_daily_report_without_blank_cells(sim):
    """/_sandbox/quickbooks/truth/profit-and-loss: each day's column of the Days report, blanks left out."""
    end = dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=9)
    window = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    rep = sim.api("GET", "/reports/ProfitAndLoss", params={"summarize_column_by": "Days", **window}).json()
    truth = sim.ctl("GET", f"/_sandbox/quickbooks/truth/profit-and-loss?start_date={start}&end_date={end}")
    assert list(truth) == [(start + dt.timedelta(days=i)).isoformat() for i in range(10)]
    for k, day in enumerate(truth):
        cells = {ln[0]["value"]: ln[1 + k]["value"] for ln in _flatten(rep["Rows"]["Row"], [])}
        assert truth[day] == {label: v for label, v in cells.items() if v != ""}, day
    assert all("Net Income" in figures for figures in truth.values())


def test_edit_changes_rows_the_way_a_user_does(sim):
    """/_sandbox/quickbooks/edit: new values, a null removes the property, SyncToken + 1, CDC sees it."""
    before = {r["Id"]: r for r in sim.all_rows("Customer")}
    first = sorted(before, key=int)[:2]
    note = "Zoë 東京 😀👩‍👩‍👧 tab\there " + "x" * 400
    edited = sim.ctl("POST", "/_sandbox/quickbooks/edit", {"entity": "Customer", "rows": [
        {"DisplayName": note, "Notes": note}, {"CompanyName": None, "CustomField": [{"DefinitionId": "1", "Type": "NumberType",
                                                                                    "NumberValue": 3}]}]})["edited"]
    assert edited == first
    after = {r["Id"]: r for r in sim.all_rows("Customer")}
    one, two = after[first[0]], after[first[1]]
    assert one["DisplayName"] == note and one["Notes"] == note
    assert "CompanyName" not in two and two["CustomField"][0]["NumberValue"] == 3
    for rec_id in first:
        assert int(after[rec_id]["SyncToken"]) == int(before[rec_id]["SyncToken"]) + 1
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    cdc = sim.api("GET", "/cdc", params={"entities": "Customer", "changedSince": since}).json()
    assert {c["Id"] for c in cdc["CDCResponse"][0]["QueryResponse"][0]["Customer"]} >= set(first)
    for bad in ({"entity": "Nope", "rows": [{}]}, {"entity": "Customer", "rows": [{"Id": "9"}]},
                {"entity": "Customer", "ids": ["999999"], "rows": [{"Notes": "x"}]}):
        assert sim.http.post(sim.control + "/_sandbox/quickbooks/edit", json=bad, timeout=30).status_code == 400


def test_balance_sheet_balances(sim):
    for end in ("2025-06-30", (dt.date.today() - dt.timedelta(days=1)).isoformat()):
        rep = sim.api("GET", "/reports/BalanceSheet", params={"start_date": "2025-01-01", "end_date": end}).json()
        summary = {ln[0]["value"]: D(ln[-1]["value"]) for ln in _flatten(rep["Rows"]["Row"], [])}
        assert summary["TOTAL ASSETS"] == summary["TOTAL LIABILITIES AND EQUITY"] != 0


def _sections(rows, out):
    """{group: (header label, summary label, summary amount)} of every section, nested ones too."""
    for row in rows:
        if "Header" in row:
            out[row.get("group")] = (row["Header"]["ColData"][0]["value"], row["Summary"]["ColData"][0]["value"],
                                     D(row["Summary"]["ColData"][1]["value"]))
        _sections(row.get("Rows", {}).get("Row", []), out)
    return out


def test_balance_sheet_is_laid_out_as_quickbooks_lays_it_out(sim):
    """Sections by account type, nested as in QuickBooks (Current Assets > Bank Accounts, ...); an
    account's row carries its id; Retained Earnings is the account's row; Net Income a row of its own."""
    rep = sim.api("GET", "/reports/BalanceSheet", params={"start_date": "2026-01-01", "end_date": "2026-01-31",
                                                          "accounting_method": "Accrual"}).json()
    assert rep["Header"]["ReportBasis"] == "Accrual" and "DateMacro" not in rep["Header"]
    assert [c["ColTitle"] for c in rep["Columns"]["Column"]] == ["", "Total"]
    sections = _sections(rep["Rows"]["Row"], {})
    assert sections["TotalAssets"][:2] == ("ASSETS", "TOTAL ASSETS")
    assert sections["BankAccounts"][:2] == ("Bank Accounts", "Total Bank Accounts")
    assert sections["CurrentAssets"][2] == sum(sections[g][2] for g in ("BankAccounts", "AR", "OtherCurrentAssets")
                                               if g in sections)
    assert sections["TotalLiabilitiesAndEquity"][2] == sections["Liabilities"][2] + sections["Equity"][2]
    equity = next(r for r in rep["Rows"]["Row"][1]["Rows"]["Row"] if r.get("group") == "Equity")["Rows"]["Row"]
    assert equity[-1] == {"ColData": [{"value": "Net Income"}, {"value": equity[-1]["ColData"][1]["value"]}],
                          "type": "Data", "group": "NetIncome"}
    retained = next(r["ColData"][0] for r in equity if r["ColData"][0]["value"] == "Retained Earnings")
    accounts = {a["Id"]: a for a in sim.all_rows("Account")}
    assert accounts[retained["id"]]["AccountSubType"] == "RetainedEarnings"
    for line in _flatten(rep["Rows"]["Row"], []):
        if "id" in line[0]:
            assert accounts[line[0]["id"]]["Name"] == line[0]["value"]


def test_the_cash_basis_profit_and_loss_counts_invoices_as_they_are_paid(sim):
    """accounting_method=Cash: over all time, income is the accrual income less what is still
    unpaid of each invoice line (its amount less its share of what was paid of the invoice's total,
    tax included, rounded to the cent), and without the credit memos no payment applied yet. The
    figures are worked out here from the invoices and credit memos the API serves."""
    period = {"start_date": "2020-01-01", "end_date": dt.date.today().isoformat()}

    def total_income(method: str) -> Decimal:
        rep = sim.api("GET", "/reports/ProfitAndLoss", params={**period, "accounting_method": method}).json()
        assert rep["Header"]["ReportBasis"] == method
        return next(D(line[1]["value"]) for line in _flatten(rep["Rows"]["Row"], []) if line[0]["value"] == "Total Income")

    def share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:   # halves away from zero
        return (amount * part / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    unpaid = Decimal(0)
    for invoice in sim.all_rows("Invoice", where=""):
        total, balance = D(invoice["TotalAmt"]), D(invoice["Balance"])
        lines = [part for line in invoice["Line"] if line["DetailType"] in ("SalesItemLineDetail", "GroupLineDetail")
                 for part in (line["GroupLineDetail"]["Line"] if line["DetailType"] == "GroupLineDetail" else [line])]
        rate = D(invoice.get("ExchangeRate", 1))      # a euro invoice's lines count in dollars
        amounts = [(D(line["Amount"]) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for line in lines]
        unpaid += sum(amount - share(amount, total - balance, total) for amount in amounts)
    credited = sum(D(memo["TotalAmt"]) - D(memo["TxnTaxDetail"]["TotalTax"]) for memo in sim.all_rows("CreditMemo", where=""))
    assert unpaid > 0 and credited > 0
    assert total_income("Cash") == total_income("Accrual") - unpaid + credited
    # the cash basis is the profit and loss's only: a balance sheet on it is refused, not answered on accrual
    refused = sim.api("GET", "/reports/BalanceSheet", params={**period, "accounting_method": "Cash"})
    assert refused.status_code == 400 and "accounting_method=Cash" in refused.json()["Fault"]["Error"][0]["Detail"]


def test_report_parameters_are_answered_as_quickbooks_does_or_refused(sim):
    """No dates: QuickBooks' default range, the year to date, named in the header. A parameter that
    would change the figures and that the sandbox does not compute is refused, never ignored."""
    today = dt.date.today()
    default = sim.api("GET", "/reports/BalanceSheet").json()["Header"]
    assert default["DateMacro"] == "this calendar year-to-date"
    assert (default["StartPeriod"], default["EndPeriod"]) in {(f"{d.year}-01-01", d.isoformat())
                                                              for d in (today, today - dt.timedelta(days=1))}
    for params, says in (({"accounting_method": "Cash"}, "accounting_method=Cash is not supported by the sandbox"),
                         ({"accounting_method": "Modified"}, "accounting_method=Modified is not valid"),
                         ({"date_macro": "Last Month"}, "date_macro: not supported by the sandbox"),
                         ({"customer": "1"}, "customer: not supported by the sandbox"),
                         ({"summarize_column_by": "Month"}, "summarize_column_by=Month is not supported by the "
                                                            "sandbox for BalanceSheet")):
        refused = sim.api("GET", "/reports/BalanceSheet", params={"start_date": "2026-01-01", "end_date": "2026-01-31",
                                                                  **params})
        assert refused.status_code == 400, params
        assert says in refused.json()["Fault"]["Error"][0]["Detail"], params
    # before the company's first transaction QuickBooks has no data to report
    before = sim.api("GET", "/reports/BalanceSheet", params={"start_date": "2020-01-01", "end_date": "2020-01-31"}).json()
    assert {"Name": "NoReportData", "Value": "true"} in before["Header"]["Option"]


def test_balance_sheet_truth_is_each_months_report_worked_out_from_the_ledger(sim):
    """/_sandbox/quickbooks/truth/balance-sheet: every month from the world's start to today, as of
    its last day (today for the current one); what GET /reports/BalanceSheet answers for the month,
    account by account and total by total, though the truth is summed apart from the report's code."""
    truth = sim.ctl("GET", "/_sandbox/quickbooks/truth/balance-sheet")
    health = sim.ctl("GET", "/_sandbox/health")
    quickbooks_today = local_date(parse_time(health["sandbox_now"]))
    months = list(truth)
    assert months[0] == f"{dt.date.fromisoformat(health['today']) - dt.timedelta(days=HISTORY_DAYS):%Y-%m}"
    assert truth[months[-1]]["as_of"] == quickbooks_today.isoformat()
    assert all(dt.date.fromisoformat(t["as_of"]) + dt.timedelta(days=1) == dt.date.fromisoformat(nxt + "-01")
               for (month, t), nxt in zip(truth.items(), months[1:]))
    for month, books in truth.items():
        assert D(books["total_assets"]) == D(books["total_liabilities_and_equity"]) != 0, month
        rep = sim.api("GET", "/reports/BalanceSheet", params={"start_date": f"{month}-01", "end_date": books["as_of"],
                                                              "accounting_method": "Accrual"}).json()
        lines = _flatten(rep["Rows"]["Row"], [])
        figures = {ln[0]["value"]: D(ln[1]["value"]) for ln in lines}
        assert figures["TOTAL ASSETS"] == D(books["total_assets"]), month
        assert figures["TOTAL LIABILITIES AND EQUITY"] == D(books["total_liabilities_and_equity"]), month
        assert figures["Net Income"] == D(books["net_income"]), month
        assert figures.get("Retained Earnings", D(0)) == D(books["retained_earnings"]), month
        shown = {ln[0]["id"]: D(ln[1]["value"]) for ln in lines if "id" in ln[0]}
        assert shown == {i: D(v) for i, v in books["accounts"].items() if D(v)}, month


# ---- throttling, faults, request log -----------------------------------------------------------
def _is_throttle_xml(resp):
    return (resp.status_code == 429 and resp.headers["Content-Type"].startswith("application/xml")
            and 'code="3001"' in resp.text and "ThrottleExceeded" in resp.text)


def test_throttle_answers_429_xml(sim):
    sim.login()
    sim.ctl("POST", "/_sandbox/quickbooks/throttle", {"enabled": True, "per_second": 3, "per_minute": 500})
    codes = [sim.api("GET", f"/companyinfo/{q.REALM_ID}") for _ in range(5)]
    assert [r.status_code for r in codes[:3]] == [200, 200, 200]
    assert _is_throttle_xml(codes[3])
    sim.ctl("POST", "/_sandbox/quickbooks/throttle", {"enabled": False})
    assert sim.api("GET", f"/companyinfo/{q.REALM_ID}").status_code == 200


def test_fault_rules(sim):
    sim.login()
    sim.ctl("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "quickbooks", "path_contains": "/companyinfo", "kind": "status", "status": 429, "count": 1},
        {"vendor": "quickbooks", "path_contains": "/companyinfo", "kind": "drop", "count": 1},
        {"vendor": "quickbooks", "path_contains": "/companyinfo", "kind": "delay", "seconds": 0.6, "count": 1},
        {"vendor": "quickbooks", "path_contains": "/companyinfo", "kind": "status", "status": 503, "count": 1}]})
    assert _is_throttle_xml(sim.api("GET", f"/companyinfo/{q.REALM_ID}"))
    with pytest.raises(requests.ConnectionError):
        sim.api("GET", f"/companyinfo/{q.REALM_ID}")
    t0 = time.monotonic()
    assert sim.api("GET", f"/companyinfo/{q.REALM_ID}").status_code == 200
    assert time.monotonic() - t0 >= 0.6
    assert sim.api("GET", f"/companyinfo/{q.REALM_ID}").status_code == 503
    assert sim.api("GET", f"/companyinfo/{q.REALM_ID}").status_code == 200      # rules spent
    assert sim.ctl("GET", "/_sandbox/faults")["rules"] == []
    log = sim.ctl("GET", "/_sandbox/requests?since=0")
    info = [e for e in log if "/companyinfo" in e["path"]]
    assert [e["status"] for e in info] == [200, 429, 0, 200, 503, 200][-len(info):]
    assert info[-1]["host"] == "quickbooks.api.intuit.com" and info[-1]["ms"] >= 0
    last = log[-1]["seq"]
    assert sim.ctl("GET", f"/_sandbox/requests?since={last}") == []


def test_mutate_and_expire_tokens_faults_land_mid_run(sim):
    """A "mutate" rule changes the books as /_sandbox/quickbooks/mutate would, between two pages;
    an "expire_tokens" rule kills the access token the client holds."""
    sim.login()
    before = sim.ctl("GET", "/_sandbox/quickbooks/truth")["counts"]["Invoice"]
    sim.ctl("POST", "/_sandbox/faults", {"rules": [
        {"vendor": "quickbooks", "path_contains": "/query", "kind": "mutate", "change": {"seed": 3, "new": 2}, "after": 1}]})
    sim.query("SELECT COUNT(*) FROM Invoice")
    assert sim.ctl("GET", "/_sandbox/quickbooks/truth")["counts"]["Invoice"] == before
    assert sim.query("SELECT COUNT(*) FROM Invoice")["totalCount"] == before + 2
    sim.ctl("POST", "/_sandbox/faults", {"rules": [{"vendor": "quickbooks", "kind": "expire_tokens"}]})
    resp = sim.api("GET", f"/companyinfo/{q.REALM_ID}")
    assert resp.status_code == 401 and resp.json()["fault"]["error"][0]["code"] == "3200"


def test_proxy_refuses_unsimulated_hosts(sim):
    with pytest.raises(requests.exceptions.ProxyError):
        sim.vendor("GET", "https://pypi.org/simple/")


def test_a_restarted_sandbox_still_accepts_the_refresh_token_it_rotated_to(tmp_path):
    """Intuit remembers the token it rotated to; so must a sandbox restarted the next day, or the
    token the QuickBooks wrapper stored would be refused on day 2 of a demo."""
    from tributary_sandbox.clock import Clock
    from tributary_sandbox.faults import Faults
    from tributary_sandbox.world import build_world

    world = build_world(42, 0.02)
    first = q.Simulator(world, Clock(), Faults(), state_dir=tmp_path)
    first.clock.advance(25 * 3600)
    rotated = first.tokens.exchange(q.INITIAL_REFRESH_TOKEN)["refresh_token"]
    assert rotated != q.INITIAL_REFRESH_TOKEN

    restarted = q.Simulator(world, Clock(), Faults(), state_dir=tmp_path)   # same state dir, new process
    restarted.clock.advance(26 * 3600)
    assert restarted.tokens.exchange(rotated)["access_token"]
    with pytest.raises(PermissionError):
        restarted.tokens.exchange(q.INITIAL_REFRESH_TOKEN)         # the rotated-away token stays dead
    # A reset (tests) starts the token chain afresh, and so does the next restart.
    restarted.load(world)
    assert q.Simulator(world, Clock(), Faults(), state_dir=tmp_path).tokens.current_refresh() == q.INITIAL_REFRESH_TOKEN
