"""Intuit's clients as the referees of the QuickBooks simulator: `python-quickbooks` with Intuit's
`intuit-oauth` login, unmodified, reaching the real hosts (quickbooks.api.intuit.com,
oauth.platform.intuit.com, developer.intuit.com) through the sandbox's proxy, as the community tap
does. What the tap reads (queries by LastUpdatedTime, Active, paging, CDC, the profit and loss
report, company info) and what a developer reads first (one object by id, counts), with Intuit's
error codes mapped to the client's own exceptions.

python-quickbooks keeps whatever JSON it is given, so the checks are on the values it reads back.
"""
from __future__ import annotations

import datetime as dt

import pytest

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks import exceptions
from quickbooks.cdc import change_data_capture
from quickbooks.objects import Account, Customer, Invoice, Item, Payment
from quickbooks.objects.detailline import GroupLine, SalesItemLine
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.preferences import Preferences

from tributary_sandbox.vendors import quickbooks as simulator


@pytest.fixture
def qb(sim, monkeypatch) -> QuickBooks:
    """Logged in the way Intuit's documentation shows: AuthClient (which first reads Intuit's
    OpenID discovery document), a refresh, then the QuickBooks client."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", sim.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca)
    auth = AuthClient(client_id=simulator.CLIENT_ID, client_secret=simulator.CLIENT_SECRET,
                      redirect_uri="https://localhost/callback", environment="production")
    auth.refresh(refresh_token=sim.ctl("GET", "/_sandbox/quickbooks/tokens")["refresh_token"])
    assert auth.access_token and auth.refresh_token
    return QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=simulator.REALM_ID,
                      minorversion=75)


def test_what_the_community_tap_reads(qb):
    invoices = Invoice.query("SELECT * FROM Invoice WHERE Metadata.LastUpdatedTime >= '2024-01-01T00:00:00Z' "
                             "ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 10", qb=qb)
    assert len(invoices) == 10
    stamps = [i.MetaData.LastUpdatedTime for i in invoices]
    assert stamps == sorted(stamps)
    assert all(i.Line and i.CustomerRef.value and i.TotalAmt is not None for i in invoices)
    customers = Customer.filter(Active=True, max_results=5, qb=qb)
    assert customers and all(c.Active for c in customers)
    assert Account.all(max_results=3, qb=qb)
    assert CompanyInfo.get(simulator.REALM_ID, qb=qb).CompanyName
    report = qb.get_report("ProfitAndLoss", {"start_date": "2026-01-01", "end_date": "2026-01-31",
                                              "summarize_column_by": "Days"})
    assert report["Header"]["ReportName"] == "ProfitAndLoss" and report["Columns"]["Column"]
    # what our wrapper adds beside the tap: each month's BalanceSheet and cash-basis ProfitAndLoss
    for name, basis in (("BalanceSheet", "Accrual"), ("ProfitAndLoss", "Cash")):
        month = qb.get_report(name, {"start_date": "2026-01-01", "end_date": "2026-01-31", "accounting_method": basis})
        assert (month["Header"]["ReportName"], month["Header"]["ReportBasis"]) == (name, basis)
        assert [column["ColTitle"] for column in month["Columns"]["Column"]] == ["", "Total"] and month["Rows"]["Row"]


def test_what_a_developer_reads_first(qb):
    first = Invoice.all(max_results=1, qb=qb)[0]
    again = Invoice.get(first.Id, qb=qb)
    assert (again.Id, again.TotalAmt, again.SyncToken) == (first.Id, first.TotalAmt, first.SyncToken)
    pages = every(Invoice, qb)
    assert Invoice.count(qb=qb) == len(pages) == len({i.Id for i in pages})
    assert Payment.count(qb=qb) > 0


def test_bundles_and_half_hours_read_as_intuits_client_reads_them(qb):
    """An invoice selling a bundle holds a GroupLine (python-quickbooks' class for QuickBooks'
    GroupLineDetail) of a Group item, its components nested with their own amounts; hours are billed
    by the half (Qty 1.5): the shapes the models flatten and keep exact."""
    invoices = every(Invoice, qb)
    bundles = [line for i in invoices for line in i.Line if isinstance(line, GroupLine)]
    assert bundles
    detail = bundles[0].GroupLineDetail
    assert Item.get(detail.GroupItemRef["value"], qb=qb).Type == "Group"
    assert all(part["Amount"] > 0 for part in detail.Line) and detail.Quantity == 1
    quantities = [line.SalesItemLineDetail.Qty for i in invoices for line in i.Line if isinstance(line, SalesItemLine)]
    assert any(q % 1 for q in quantities)


def test_the_company_settings_a_developer_reads_before_any_figure(qb):
    preferences = Preferences.get(qb=qb)
    assert preferences.CurrencyPrefs.HomeCurrency.value == "USD"
    assert preferences.AccountingInfoPrefs.FirstMonthOfFiscalYear == "January"
    assert preferences.TaxPrefs.UsingSalesTax is True
    assert preferences.ReportPrefs.ReportBasis == "Accrual"


def test_disconnecting_the_app_revokes_every_token(qb, sim):
    """intuit-oauth's revoke, at the revocation endpoint Intuit's discovery document names
    (developer.api.intuit.com): the connection ends, both tokens with it."""
    auth = qb.auth_client
    assert CompanyInfo.get(simulator.REALM_ID, qb=qb).CompanyName
    assert auth.revoke(token=auth.refresh_token) is True
    with pytest.raises(exceptions.AuthorizationException):
        CompanyInfo.get(simulator.REALM_ID, qb=qb)
    with pytest.raises(Exception) as refused:   # intuitlib's AuthClientError: the refresh token is gone
        auth.refresh(refresh_token=auth.refresh_token)
    assert getattr(refused.value, "status_code", None) == 400
    sim.ctl("POST", "/_sandbox/reset", {})   # the other tests start from a connected app


def every(cls, qb: QuickBooks, where: str = "") -> list:
    """Every object, paged by QuickBooks' 1,000 at most."""
    found, start = [], 1
    while page := cls.where(where, start_position=start, max_results=1000, qb=qb):
        found += page
        start += len(page)
    return found


def test_the_filters_a_developer_writes_first(qb):
    invoices = every(Invoice, qb)
    big = every(Invoice, qb, "TotalAmt > '1000'")
    assert {i.Id for i in big} == {i.Id for i in invoices if i.TotalAmt > 1000} != set()
    one = invoices[7]
    assert [i.Id for i in Invoice.filter(DocNumber=one.DocNumber, qb=qb)] == [one.Id]
    theirs = Invoice.where(f"CustomerRef = '{one.CustomerRef.value}' AND TxnDate >= '{one.TxnDate}'", max_results=1000,
                           qb=qb)
    assert one.Id in {i.Id for i in theirs}
    assert all(i.CustomerRef.value == one.CustomerRef.value and i.TxnDate >= one.TxnDate for i in theirs)
    customer = Customer.all(max_results=1, qb=qb)[0]
    fragment = customer.DisplayName[1:4].lower()
    liked = Customer.where(f"DisplayName LIKE '%{fragment}%'", max_results=1000, qb=qb)
    assert customer.Id in {c.Id for c in liked} and all(fragment in c.DisplayName.lower() for c in liked)
    assert {c.Id for c in Customer.choose([customer.DisplayName], field="DisplayName", qb=qb)} == {customer.Id}


def test_the_sorts_a_developer_writes_first(qb):
    """ORDER BY any property, both ways, with filters and paging; and the creation time as a filter."""
    invoices = every(Invoice, qb)
    by_total = Invoice.where("", order_by="TotalAmt DESC", max_results=1000, qb=qb)
    assert [i.TotalAmt for i in by_total] == sorted((i.TotalAmt for i in invoices), reverse=True)[:len(by_total)]
    by_id = Invoice.where("", order_by="Id", max_results=1000, qb=qb)
    assert [int(i.Id) for i in by_id] == sorted(int(i.Id) for i in invoices)[:len(by_id)]
    names = [c.DisplayName for c in Customer.where("Active = true", order_by="DisplayName", max_results=1000, qb=qb)]
    assert names == sorted(names, key=str.lower) and len(names) > 10
    second_page = Customer.where("Active = true", order_by="DisplayName", start_position=6, max_results=5, qb=qb)
    assert [c.DisplayName for c in second_page] == names[5:10]
    created = {i.Id: dt.datetime.fromisoformat(i.MetaData.CreateTime) for i in invoices}
    since = sorted(created.values())[-5]
    made_last = Invoice.where(f"MetaData.CreateTime >= '{since.isoformat()}'", max_results=1000, qb=qb)
    assert {i.Id for i in made_last} == {i for i, when in created.items() if when >= since} and len(made_last) >= 5


def test_change_data_capture(sim, qb):
    sim.ctl("POST", "/_sandbox/quickbooks/mutate", {"seed": 5, "new": 1, "updated": 1, "deleted": 1})
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    changed = change_data_capture([Invoice, Customer], since, qb=qb)
    assert changed.Invoice, "the mutation's invoices come back"
    with pytest.raises(exceptions.ValidationException):   # Intuit: changedSince at most 30 days back
        change_data_capture([Invoice], "2000-01-01T00:00:00Z", qb=qb)


def test_errors_become_the_clients_exceptions(qb):
    with pytest.raises(exceptions.ObjectNotFoundException) as missing:
        Invoice.get("999999999", qb=qb)
    assert missing.value.error_code == 610
    with pytest.raises(exceptions.ValidationException):
        Customer.query("SELECT * FROM Nope", qb=qb)


def test_a_state_dir_from_before_a_simulated_host_was_added_gets_new_certificates(tmp_path, monkeypatch):
    from tributary_sandbox import certs

    monkeypatch.setattr(certs, "LEAF_DNS_NAMES", tuple(n for n in certs.LEAF_DNS_NAMES if n != "developer.intuit.com"))
    old = certs.ensure_certs(tmp_path)["leaf"].read_bytes()
    monkeypatch.undo()
    paths = certs.ensure_certs(tmp_path)
    assert paths["leaf"].read_bytes() != old and "developer.intuit.com" in certs._names_of(paths["leaf"])
    assert certs.ensure_certs(tmp_path)["leaf"].read_bytes() == paths["leaf"].read_bytes()   # then kept
