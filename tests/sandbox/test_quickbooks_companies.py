"""Several QuickBooks companies on one app, as an accountant connects them, refereed by Intuit's
own clients (intuit-oauth's AuthClient, python-quickbooks) through the sandbox's proxy: each
company has its realm id and its own refresh token; a token reads its own company's books only;
revoking one company's connection leaves the other connected.
"""
from __future__ import annotations


import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks, exceptions
from quickbooks.objects import Account, Customer, Invoice, Payment
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.taxagency import TaxAgency
from quickbooks.objects.taxrate import TaxRate
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.preferences import Preferences

from conftest import Sim
from tributary_sandbox.vendors import quickbooks as simulator

SECOND_REALM = simulator.instance_realm_id("second")


@pytest.fixture(scope="module")
def companies(two_businesses):
    """A sandbox serving the default company and a second one (SANDBOX_INSTANCES=quickbooks:second)."""
    return two_businesses


def connect(sim: Sim, monkeypatch, hooks: str, realm: str) -> QuickBooks:
    """Logged in as Intuit's documentation shows, with the company's own refresh token."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", sim.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca)
    tokens = sim.ctl("GET", f"{hooks}/_sandbox/quickbooks/tokens")
    assert tokens["realm_id"] == realm
    auth = AuthClient(client_id=tokens["client_id"], client_secret=tokens["client_secret"],
                      redirect_uri="https://localhost/callback", environment="production")
    auth.refresh(refresh_token=tokens["refresh_token"])
    return QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=realm, minorversion=75)


def test_each_company_reads_its_own_books(companies, monkeypatch):
    first = connect(companies, monkeypatch, "", simulator.REALM_ID)
    second = connect(companies, monkeypatch, "/instances/second", SECOND_REALM)
    assert CompanyInfo.get(simulator.REALM_ID, qb=first).CompanyName == "Tributary Trading Co"
    assert CompanyInfo.get(SECOND_REALM, qb=second).CompanyName == "Second Trading Co"
    # ids overlap across companies, as two real companies' do; the records behind them differ
    first_customers = {c.Id: c.DisplayName for c in Customer.where("", max_results=1000, qb=first)}
    second_customers = {c.Id: c.DisplayName for c in Customer.where("", max_results=1000, qb=second)}
    shared = set(first_customers) & set(second_customers)
    assert shared and any(first_customers[i] != second_customers[i] for i in shared)
    first_total = sum(i.TotalAmt for i in Invoice.where("", max_results=1000, qb=first))
    second_total = sum(i.TotalAmt for i in Invoice.where("", max_results=1000, qb=second))
    assert first_total != second_total
    # each company's truth is served beside it
    truth = companies.ctl("GET", "/instances/second/_sandbox/quickbooks/truth")
    assert truth["active_counts"]["Customer"] == len(second_customers)


def test_each_companys_balance_sheet_truth_is_its_own_report(companies, monkeypatch):
    """/instances/second/_sandbox/quickbooks/truth/balance-sheet is the second company's: the
    BalanceSheet report Intuit's client reads from that company, not the first's."""
    second = connect(companies, monkeypatch, "/instances/second", SECOND_REALM)
    truth = companies.ctl("GET", "/instances/second/_sandbox/quickbooks/truth/balance-sheet")
    first_truth = companies.ctl("GET", "/_sandbox/quickbooks/truth/balance-sheet")
    month = list(truth)[-2]   # the last whole month
    assert truth[month]["total_assets"] != first_truth[month]["total_assets"]
    report = second.get_report("BalanceSheet", qs={"start_date": f"{month}-01", "end_date": truth[month]["as_of"],
                                                   "accounting_method": "Accrual"})
    totals = {}
    rows = list(report["Rows"]["Row"])
    while rows:
        row = rows.pop()
        rows += row.get("Rows", {}).get("Row", [])
        if "Summary" in row:
            totals[row["Summary"]["ColData"][0]["value"]] = row["Summary"]["ColData"][1]["value"]
    assert totals["TOTAL ASSETS"] == truth[month]["total_assets"]
    assert totals["TOTAL LIABILITIES AND EQUITY"] == truth[month]["total_liabilities_and_equity"]


def report_amounts(report: dict) -> dict[str, str]:
    """Each row label of a one-column report and its amount (data rows and section totals)."""
    amounts, rows = {}, list(report["Rows"]["Row"])
    while rows:
        row = rows.pop()
        rows += row.get("Rows", {}).get("Row", [])
        for cells in (row.get("ColData"), row.get("Summary", {}).get("ColData")):
            if cells and cells[1]["value"] != "":
                amounts[cells[0]["value"]] = cells[1]["value"]
    return amounts


@pytest.mark.parametrize("hooks, realm, first_month, name", [
    ("", simulator.REALM_ID, 1, "January"), ("/instances/second", SECOND_REALM, 4, "April")])
def test_each_companys_fiscal_year_is_its_own(companies, monkeypatch, hooks, realm, first_month, name):
    """The second company's fiscal year starts in April (its preferences, as Intuit's client reads
    them): its BalanceSheet's Net Income in the last whole June is the profit of April to June,
    which its own ProfitAndLoss report for those months shows, and the profit before April is in
    Retained Earnings. The first company's year starts in January."""
    qb = connect(companies, monkeypatch, hooks, realm)
    assert Preferences.get(qb=qb).AccountingInfoPrefs.FirstMonthOfFiscalYear == name
    assert CompanyInfo.get(realm, qb=qb).FiscalYearStartMonth == name
    truth = companies.ctl("GET", f"{hooks}/_sandbox/quickbooks/truth/balance-sheet")
    june = max(month for month in list(truth)[:-1] if month.endswith("-06"))
    year_start = f"{june[:4]}-{first_month:02d}-01"
    sheet = report_amounts(qb.get_report("BalanceSheet", {"start_date": f"{june}-01", "end_date": f"{june}-30",
                                                          "accounting_method": "Accrual"}))
    profit = report_amounts(qb.get_report("ProfitAndLoss", {"start_date": year_start, "end_date": f"{june}-30",
                                                             "accounting_method": "Accrual"}))
    assert sheet["Net Income"] == profit["Net Income"] == truth[june]["net_income"]
    assert sheet["Retained Earnings"] == truth[june]["retained_earnings"]
    # a report asked for without dates covers QuickBooks' default: this fiscal year to date
    year, month = (int(part) for part in list(truth)[-1].split("-"))
    undated = qb.get_report("ProfitAndLoss")
    assert undated["Header"]["StartPeriod"] == f"{year - (month < first_month)}-{first_month:02d}-01"


def test_the_first_company_trades_in_euros_as_intuits_client_reads_it(companies, monkeypatch):
    """Multicurrency on in the first company only. Its euro invoices carry their rate and home
    amount; a euro payment's rate is the day's; the euro A/R is its own account; and the
    ProfitAndLoss report shows the realized gain or loss under Other Expenses, which its Net
    Income includes. The second company has multicurrency off and no such sections."""
    first = connect(companies, monkeypatch, "", simulator.REALM_ID)
    prefs = Preferences.get(qb=first).CurrencyPrefs
    assert prefs.MultiCurrencyEnabled is True and prefs.HomeCurrency.value == "USD"
    euro = Invoice.where("CurrencyRef = 'EUR'", max_results=1000, qb=first)
    assert len(euro) > 5
    for invoice in euro:
        assert round(invoice.TotalAmt * invoice.ExchangeRate, 2) == invoice.HomeTotalAmt
    receivable = {a.Name: a for a in Account.where("AccountType = 'Accounts Receivable'", qb=first)}
    assert receivable["Accounts Receivable (A/R) - EUR"].CurrencyRef.value == "EUR"
    payments = [p for p in Payment.where("", max_results=1000, qb=first) if p.CurrencyRef.value == "EUR"]
    assert payments and {p.ARAccountRef.value for p in payments} == {receivable["Accounts Receivable (A/R) - EUR"].Id}
    assert len({p.ExchangeRate for p in payments}) > 1    # the rate moves from day to day
    truth = companies.ctl("GET", "/_sandbox/quickbooks/truth")["pl_by_month"]
    month = max(m for m, figures in truth.items() if figures["other_expenses"] and m < list(truth)[-1])
    profit = report_amounts(first.get_report("ProfitAndLoss", {"start_date": f"{month}-01", "end_date": f"{month}-28",
                                                               "accounting_method": "Accrual"}))
    assert "Exchange Gain or Loss" in profit and "Total Other Expenses" in profit
    assert float(profit["Net Income"]) == round(float(profit["Net Operating Income"]) + float(profit["Net Other Income"]), 2)
    second = connect(companies, monkeypatch, "/instances/second", SECOND_REALM)
    assert Preferences.get(qb=second).CurrencyPrefs.MultiCurrencyEnabled is False
    assert "Net Other Income" not in report_amounts(second.get_report("ProfitAndLoss"))


def test_the_online_shops_sales_tax_is_owed_to_its_own_agency_as_intuits_client_reads_it(companies, monkeypatch):
    """Two tax agencies. The online shop's rate is owed to the second, which keeps its own
    liability account, "<agency> Payable", the only link QuickBooks gives between the two: each
    Shopify sales receipt's tax line names that rate, and the BalanceSheet report carries the
    account beside Sales Tax Payable, both owed something."""
    first = connect(companies, monkeypatch, "", simulator.REALM_ID)
    agencies = {agency.Id: agency.DisplayName for agency in TaxAgency.all(qb=first)}
    assert len(agencies) == 2
    online = next(rate for rate in TaxRate.all(qb=first) if rate.Name == "Online Sales Tax")
    payable = f"{agencies[online.AgencyRef.value]} Payable"
    account = Account.where(f"Name = '{payable}'", qb=first)
    assert len(account) == 1 and account[0].Classification == "Liability"
    receipts = [r for r in SalesReceipt.where("", max_results=1000, qb=first) if r.TxnTaxDetail.TotalTax]
    assert receipts
    for receipt in receipts:
        (line,) = receipt.TxnTaxDetail.TaxLine
        assert line.TaxLineDetail.TaxRateRef.value == online.Id and line.Amount == receipt.TxnTaxDetail.TotalTax
    balances = report_amounts(first.get_report("BalanceSheet"))
    assert float(balances[payable]) > 0 and float(balances["Sales Tax Payable"]) > 0


def test_a_token_reads_only_its_own_company(companies, monkeypatch):
    second = connect(companies, monkeypatch, "/instances/second", SECOND_REALM)
    # Intuit's 403 ApplicationAuthorizationFailed (3100), which python-quickbooks raises by its code
    with pytest.raises(exceptions.ValidationException) as refused:
        CompanyInfo.get(simulator.REALM_ID, qb=QuickBooks(auth_client=second.auth_client,
                                                          refresh_token=second.refresh_token,
                                                          company_id=simulator.REALM_ID, minorversion=75))
    assert refused.value.error_code == 3100


def test_revoking_one_company_leaves_the_other_connected(companies, monkeypatch):
    first = connect(companies, monkeypatch, "", simulator.REALM_ID)
    second = connect(companies, monkeypatch, "/instances/second", SECOND_REALM)
    assert second.auth_client.revoke(token=second.auth_client.refresh_token) is True
    with pytest.raises(exceptions.AuthorizationException):
        CompanyInfo.get(SECOND_REALM, qb=second)
    assert CompanyInfo.get(simulator.REALM_ID, qb=first).CompanyName == "Tributary Trading Co"
    first.auth_client.refresh(refresh_token=first.auth_client.refresh_token)   # its refresh token still works
    companies.ctl("POST", "/_sandbox/reset", {})
