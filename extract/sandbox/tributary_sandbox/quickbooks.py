"""QuickBooks Online (Accounting API v3) simulator, faithful to what tap-quickbooks 2.5.0 sends.

Credentials the sandbox accepts (the only place they are defined):
    client_id      sandbox-client-id
    client_secret  sandbox-client-secret
    realm_id       9130350000000001
    refresh token  sandbox-refresh-token-0   (initial; it rotates, see TokenStore)

Served (vendor routes, on hosts quickbooks.api.intuit.com / sandbox-quickbooks.api.intuit.com /
oauth.platform.intuit.com through the proxy, or directly on the plain port):
    POST /oauth2/v1/tokens/bearer                       refresh_token grant, rotating tokens
    GET  /v3/company/{realm}/companyinfo/{realm}
    GET  /v3/company/{realm}/query?query=…              SELECT … [WHERE …] [ORDER BY …] [STARTPOSITION n] [MAXRESULTS m]
    POST /v3/company/{realm}/batch                      ≤ 30 BatchItemRequest queries
    GET  /v3/company/{realm}/cdc?entities=…&changedSince=…   30-day look-back, ≤ 1000 objects
    GET  /v3/company/{realm}/reports/ProfitAndLoss|BalanceSheet
Control (under /_sandbox/quickbooks/): throttle, mutate, edit, revoke, truth, truth/rows,
truth/profit-and-loss, tokens, tokens/age, tokens/access-ttl.

The books are a projection of the world (world.py): one QuickBooks row per world fact, ids as
strings, money as JSON numbers (cents internally), times in the company's zone (fixed -08:00;
real QBO follows US Pacific DST, which nothing here depends on). Reports are computed from the
served transactions through one double-entry `postings()` function, so the P&L reconciles with
the transactions to the cent and the balance sheet balances, also after mutations.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import random
import re
from decimal import Decimal
import secrets
import time
from bisect import bisect_left
from pathlib import Path

from aiohttp import web

from .clock import Clock
from .world import EXPENSE_CATEGORIES, World, cents

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
REALM_ID = "9130350000000001"
INITIAL_REFRESH_TOKEN = "sandbox-refresh-token-0"

ACCESS_TOKEN_TTL = 3600                  # 1 h, as Intuit
REFRESH_ROTATE_AFTER = 24 * 3600         # Intuit issues a new refresh token about daily
REFRESH_IDLE_LIMIT = 100 * 24 * 3600     # 100-day rolling validity
TOKENS_FILE = "quickbooks-refresh-tokens.json"  # in the state dir: rotated tokens survive a restart
MIN_MINOR_VERSION = 75                   # older minor versions are retired
MAX_PAGE = 1000
MAX_BATCH_ITEMS = 30
CDC_LOOKBACK_DAYS = 30
CDC_MAX_OBJECTS = 1000
COMPANY_TZ = dt.timezone(dt.timedelta(hours=-8))

# Name-list entities: queries return only Active=true rows unless asked otherwise.
NAME_LISTS = {"Account", "Customer", "Vendor", "Item", "Class", "Department", "Employee",
              "PaymentMethod", "Term", "TaxCode", "TaxRate", "Budget"}
ENTITIES = ("Account", "Bill", "BillPayment", "Budget", "Class", "CreditMemo", "Customer",
            "CustomerType", "Department", "Deposit", "Employee", "Estimate", "Invoice", "Item",
            "JournalEntry", "Payment", "PaymentMethod", "Purchase", "PurchaseOrder",
            "RefundReceipt", "SalesReceipt", "TaxAgency", "TaxCode", "TaxRate", "Term",
            "TimeActivity", "Transfer", "Vendor", "VendorCredit")
ENTITY_BY_LOWER = {e.lower(): e for e in ENTITIES}

# Chart of accounts: key, Name, AccountType, AccountSubType, Classification, Active.
CHART = (
    ("product_income", "Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue", True),
    ("service_income", "Services", "Income", "ServiceFeeIncome", "Revenue", True),
    ("shipping_income", "Shipping Income", "Income", "OtherPrimaryIncome", "Revenue", True),
    ("cogs", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense", True),
    ("Advertising", "Advertising", "Expense", "AdvertisingPromotional", "Expense", True),
    ("Rent or Lease", "Rent or Lease", "Expense", "RentOrLeaseOfBuildings", "Expense", True),
    ("Software & Subscriptions", "Software & Subscriptions", "Expense", "OtherMiscellaneousServiceCost", "Expense", True),
    ("Utilities", "Utilities", "Expense", "Utilities", "Expense", True),
    ("Office Supplies", "Office Supplies", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense", True),
    ("Travel", "Travel", "Expense", "Travel", "Expense", True),
    ("Contractors", "Contractors", "Expense", "CostOfLabor", "Expense", True),
    ("payroll", "Payroll Expenses", "Expense", "PayrollExpenses", "Expense", True),
    ("fees", "Bank Charges & Fees", "Expense", "BankCharges", "Expense", True),
    ("depreciation", "Depreciation", "Expense", "OtherMiscellaneousServiceCost", "Expense", True),
    ("legacy_marketing", "Legacy Marketing", "Expense", "AdvertisingPromotional", "Expense", False),
    ("checking", "Checking", "Bank", "Checking", "Asset", True),
    ("savings", "Savings", "Bank", "Savings", "Asset", True),
    ("ar", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset", True),
    ("inventory", "Inventory Asset", "Other Current Asset", "Inventory", "Asset", True),
    ("undeposited", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset", True),
    ("equipment", "Equipment", "Fixed Asset", "MachineryAndEquipment", "Asset", True),
    ("accum_depr", "Accumulated Depreciation", "Fixed Asset", "AccumulatedDepreciation", "Asset", True),
    ("ap", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability", True),
    ("visa", "Visa Credit Card", "Credit Card", "CreditCard", "Liability", True),
    ("sales_tax", "Sales Tax Payable", "Other Current Liability", "SalesTaxPayable", "Liability", True),
    ("owner_equity", "Owner's Investment", "Equity", "OwnersEquity", "Equity", True),
    ("opening", "Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity", True),
    ("retained", "Retained Earnings", "Equity", "RetainedEarnings", "Equity", True),
)
PL_GROUPS = (("Income", "Income", "Total Income"), ("COGS", "Cost of Goods Sold", "Total Cost of Goods Sold"),
             ("Expenses", "Expense", "Total Expenses"))
ASSET_TYPES = ("Bank", "Accounts Receivable", "Other Current Asset", "Fixed Asset")
LIABILITY_TYPES = ("Accounts Payable", "Credit Card", "Other Current Liability")


# ---- formatting helpers ------------------------------------------------------------------------
def qbo_time(moment: dt.datetime) -> str:
    return moment.astimezone(COMPANY_TZ).replace(microsecond=0).isoformat()


def qbo_stamp(moment: dt.datetime) -> str:
    """The response `time` attribute (milliseconds, company zone), e.g. 2025-03-04T10:11:12.123-08:00."""
    m = moment.astimezone(COMPANY_TZ)
    return m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}" + m.strftime("%z")[:3] + ":" + m.strftime("%z")[3:]


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(COMPANY_TZ).date()


def to_cents(x) -> int:
    return int(round(float(x) * 100))


def fmt_money(c: int) -> str:
    """Report cell text: integer cents → "1234.50" / "-0.99" (exact, no float rounding)."""
    return ("-" if c < 0 else "") + f"{abs(c) // 100}.{abs(c) % 100:02d}"


def parse_time(text: str) -> dt.datetime:
    """QBO accepts 'Z', numeric offsets, and bare dates (company midnight)."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=COMPANY_TZ)
    return value


def ref(value, name=None) -> dict:
    return {"value": str(value), "name": name} if name is not None else {"value": str(value)}


class QboError(Exception):
    """A QBO Fault: rendered as {"Fault": {"Error": [...], "type": ...}, "time": ...}."""

    def __init__(self, status: int, code: str, message: str, detail: str, fault_type: str = "ValidationFault"):
        super().__init__(detail)
        self.status, self.code, self.message, self.detail, self.fault_type = status, code, message, detail, fault_type

    def body(self) -> dict:
        return {"Error": [{"Message": self.message, "Detail": self.detail, "code": self.code}],
                "type": self.fault_type}


def throttle_xml(now: dt.datetime) -> str:
    """QBO answers throttling in XML even when JSON was asked for."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{qbo_stamp(now)}">'
            '<Fault type="SERVICE"><Error code="3001">'
            '<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>'
            '<Detail>The request limit was reached.</Detail></Error></Fault></IntuitResponse>')


def throttle_response(now: dt.datetime) -> web.Response:
    return web.Response(status=429, text=throttle_xml(now), content_type="application/xml")


# ---- the books ---------------------------------------------------------------------------------
class Books:
    """All QBO rows, the deletion log, and the ordered index queries page through."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict]] = {e: {} for e in ENTITIES}
        self.lut: dict[str, dict[str, float]] = {e: {} for e in ENTITIES}     # Id → LastUpdatedTime epoch
        self.deleted: dict[str, dict[str, dict]] = {e: {} for e in ENTITIES}  # Id → deletion stub
        self._order: dict[str, list] = {}
        self._ledger: dict | None = None
        self.account_id: dict[str, str] = {}
        self.account_name: dict[str, str] = {}
        self.shipping_item = ""

    def next_id(self, entity: str) -> str:
        ids = self.rows[entity].keys() | self.deleted[entity].keys()
        return str(max((int(i) for i in ids), default=0) + 1)

    def put(self, entity: str, rec: dict, created: dt.datetime, updated: dt.datetime | None = None) -> dict:
        updated = max(updated or created, created)
        rec["domain"] = "QBO"
        rec["sparse"] = False
        rec.setdefault("SyncToken", "0")
        rec["MetaData"] = {"CreateTime": qbo_time(created), "LastUpdatedTime": qbo_time(updated)}
        self.rows[entity][rec["Id"]] = rec
        self.lut[entity][rec["Id"]] = updated.timestamp()
        self.changed(entity)
        return rec

    def touch(self, entity: str, rec: dict, when: dt.datetime) -> None:
        rec["SyncToken"] = str(int(rec["SyncToken"]) + 1)
        rec["MetaData"]["LastUpdatedTime"] = qbo_time(when)
        self.lut[entity][rec["Id"]] = when.timestamp()
        self.changed(entity)

    def delete(self, entity: str, rec_id: str, when: dt.datetime) -> None:
        self.rows[entity].pop(rec_id)
        self.lut[entity].pop(rec_id)
        self.deleted[entity][rec_id] = {"Id": rec_id, "status": "Deleted", "domain": "QBO",
                                        "MetaData": {"LastUpdatedTime": qbo_time(when)}}
        self.changed(entity)

    def changed(self, entity: str) -> None:
        self._order.pop(entity, None)
        self._ledger = None

    def ordered(self, entity: str) -> list:
        """[(epoch, int id, id)] sorted: LastUpdatedTime then Id (stable paging)."""
        if entity not in self._order:
            self._order[entity] = sorted((t, int(i), i) for i, t in self.lut[entity].items())
        return self._order[entity]

    # ---- accounting ----------------------------------------------------------------------------
    def ledger(self) -> dict:
        """{'YYYY-MM-DD': {account Id: debit cents}} over every posting transaction."""
        if self._ledger is None:
            led: dict[str, dict[str, int]] = {}
            for entity in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Payment", "Bill",
                           "BillPayment", "Purchase", "VendorCredit", "JournalEntry", "Deposit", "Transfer"):
                for rec in self.rows[entity].values():
                    day = led.setdefault(rec["TxnDate"], {})
                    for acct, debit in postings(self, entity, rec):
                        day[acct] = day.get(acct, 0) + debit
            self._ledger = led
        return self._ledger

    def account_type(self, acct_id: str) -> str:
        return self.rows["Account"][acct_id]["AccountType"]


def postings(books: Books, entity: str, rec: dict) -> list[tuple[str, int]]:
    """Double-entry effect of one transaction: [(account Id, debit cents; credit < 0)]."""
    A = books.account_id
    out: list[tuple[str, int]] = []
    total = to_cents(rec.get("TotalAmt", 0))
    if entity in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"):
        sign = 1 if entity in ("Invoice", "SalesReceipt") else -1
        items = books.rows["Item"]
        for line in rec["Line"]:
            if line["DetailType"] != "SalesItemLineDetail":
                continue
            d = line["SalesItemLineDetail"]
            item = items[d["ItemRef"]["value"]]
            out.append((item["IncomeAccountRef"]["value"], -sign * to_cents(line["Amount"])))
            if item["Type"] == "Inventory":       # accrual COGS at the item's cost
                cost = d["Qty"] * to_cents(item["PurchaseCost"])
                out.append((item["ExpenseAccountRef"]["value"], sign * cost))
                out.append((item["AssetAccountRef"]["value"], -sign * cost))
        tax = to_cents(rec.get("TxnTaxDetail", {}).get("TotalTax", 0))
        if tax:
            out.append((A["sales_tax"], -sign * tax))
        counter = A["ar"] if entity in ("Invoice", "CreditMemo") else rec["DepositToAccountRef"]["value"]
        out.append((counter, sign * total))
    elif entity == "Payment":
        out += [(rec["DepositToAccountRef"]["value"], total), (A["ar"], -total)]
    elif entity in ("Bill", "Purchase", "VendorCredit"):
        sign = -1 if entity == "VendorCredit" else 1
        for line in rec["Line"]:
            out.append((line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"], sign * to_cents(line["Amount"])))
        counter = rec["AccountRef"]["value"] if entity == "Purchase" else A["ap"]
        out.append((counter, -sign * total))
    elif entity == "BillPayment":
        out += [(A["ap"], total), (rec["CheckPayment"]["BankAccountRef"]["value"], -total)]
    elif entity == "JournalEntry":
        for line in rec["Line"]:
            d = line["JournalEntryLineDetail"]
            amt = to_cents(line["Amount"])
            out.append((d["AccountRef"]["value"], amt if d["PostingType"] == "Debit" else -amt))
    elif entity == "Deposit":
        out.append((rec["DepositToAccountRef"]["value"], total))
        for line in rec["Line"]:
            out.append((line["DepositLineDetail"]["AccountRef"]["value"], -to_cents(line["Amount"])))
    elif entity == "Transfer":
        amt = to_cents(rec["Amount"])
        out += [(rec["ToAccountRef"]["value"], amt), (rec["FromAccountRef"]["value"], -amt)]
    return out


# ---- projection of the world into QuickBooks rows ----------------------------------------------
def _sales_lines(books: Books, lines: list[tuple[str, int, int]], shipping: int = 0) -> tuple[list, int]:
    """[(item Id, qty, unit cents)] → QBO Line array (+ SubTotalLineDetail) and subtotal cents."""
    items = books.rows["Item"]
    out, sub = [], 0
    for n, (item_id, qty, unit) in enumerate(lines, start=1):
        amt = qty * unit
        sub += amt
        item = items[item_id]
        out.append({"Id": str(n), "LineNum": n, "Description": item["Name"], "Amount": cents(amt),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": ref(item_id, item["Name"]), "UnitPrice": cents(unit),
                                            "Qty": qty, "ItemAccountRef": dict(item["IncomeAccountRef"]),
                                            "TaxCodeRef": ref("TAX" if item["Taxable"] else "NON")}})
    if shipping:
        n = len(out) + 1
        ship = books.rows["Item"][books.shipping_item]
        sub += shipping
        out.append({"Id": str(n), "LineNum": n, "Description": "Shipping", "Amount": cents(shipping),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": ref(ship["Id"], ship["Name"]), "UnitPrice": cents(shipping),
                                            "Qty": 1, "ItemAccountRef": dict(ship["IncomeAccountRef"]),
                                            "TaxCodeRef": ref("NON")}})
    out.append({"Amount": cents(sub), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    return out, sub


def _tax_detail(tax: int, code_id: str, rate_id: str, pct: float, taxable: int) -> dict:
    detail = {"TotalTax": cents(tax)}
    if tax:
        detail["TxnTaxCodeRef"] = ref(code_id)
        detail["TaxLine"] = [{"Amount": cents(tax), "DetailType": "TaxLineDetail",
                              "TaxLineDetail": {"TaxRateRef": ref(rate_id), "PercentBased": True,
                                                "TaxPercent": pct, "NetAmountTaxable": cents(taxable)}}]
    return detail


def _at(day: dt.date, hour: int = 17) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc)


def project(w: World) -> Books:
    """Build every QBO row from the world. Deterministic: only world data and fixed offsets."""
    b = Books()
    r = random.Random(f"{w.seed}:quickbooks")
    origin = _at(w.start - dt.timedelta(days=30), 16)           # company set up before history
    last_moment = _at(w.today - dt.timedelta(days=1), 23)       # nothing is stamped after yesterday

    def clamp(m: dt.datetime) -> dt.datetime:
        return min(m, last_moment)

    # Accounts.
    for i, (key, name, atype, sub, cls, active) in enumerate(CHART, start=1):
        b.account_id[key] = str(i)
        b.account_name[str(i)] = name
        b.put("Account", {"Id": str(i), "Name": name, "FullyQualifiedName": name, "AccountType": atype,
                          "AccountSubType": sub, "Classification": cls, "SubAccount": False, "Active": active,
                          "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0,
                          "CurrencyRef": ref("USD", "United States Dollar")}, origin)
    A = b.account_id
    acct = lambda key: ref(A[key], b.account_name[A[key]])  # noqa: E731

    # Small name lists.
    for i, (name, days) in enumerate((("Net 15", 15), ("Net 30", 30), ("Net 60", 60), ("Due on receipt", 0)), 1):
        b.put("Term", {"Id": str(i), "Name": name, "Active": True, "Type": "STANDARD", "DueDays": days,
                       "DiscountDays": 0, "DiscountPercent": 0}, origin)
    term_by_days = {15: "1", 30: "2", 60: "3", 0: "4"}
    for i, (name, kind) in enumerate((("Cash", "NON_CREDIT_CARD"), ("Check", "NON_CREDIT_CARD"),
                                      ("Visa", "CREDIT_CARD"), ("MasterCard", "CREDIT_CARD"),
                                      ("American Express", "CREDIT_CARD"), ("ACH Transfer", "NON_CREDIT_CARD"),
                                      ("Diners Club", "CREDIT_CARD")), 1):
        b.put("PaymentMethod", {"Id": str(i), "Name": name, "Type": kind, "Active": name != "Diners Club"}, origin)
    for i, name in enumerate(("Wholesale", "Retail", "Partner"), 1):
        b.put("CustomerType", {"Id": str(i), "Name": name, "Active": True}, origin)
    for i, (name, active) in enumerate((("Retail", True), ("Wholesale", True), ("Services", True), ("Events", False)), 1):
        b.put("Class", {"Id": str(i), "Name": name, "FullyQualifiedName": name, "SubClass": False, "Active": active}, origin)
    for i, (name, active) in enumerate((("Headquarters", True), ("Online Store", True), ("Popup Shop", False)), 1):
        b.put("Department", {"Id": str(i), "Name": name, "FullyQualifiedName": name, "SubDepartment": False,
                             "Active": active}, origin)
    b.put("TaxAgency", {"Id": "1", "DisplayName": "State Board of Equalization", "TaxTrackedOnSales": True,
                        "TaxTrackedOnPurchases": False}, origin)
    for i, (name, pct) in enumerate((("Invoice Sales Tax", 8.25), ("Online Sales Tax", 7.25), ("Old County Tax", 1.0)), 1):
        b.put("TaxRate", {"Id": str(i), "Name": name, "Description": name, "RateValue": pct, "Active": i != 3,
                          "AgencyRef": ref("1"), "SpecialTaxType": "NONE", "DisplayType": "ReadOnly",
                          "EffectiveTaxRate": [{"RateValue": pct, "EffectiveDate": "2015-01-01T00:00:00-08:00"}]}, origin)
    for i, (name, rate, active) in enumerate((("Invoice Sales Tax", "1", True), ("Online Sales Tax", "2", True),
                                              ("Old County Tax", "3", False)), 2):
        b.put("TaxCode", {"Id": str(i), "Name": name, "Description": name, "Active": active, "Hidden": False,
                          "Taxable": True, "TaxGroup": True,
                          "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": ref(rate, name), "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}]},
                          "PurchaseTaxRateList": {"TaxRateDetail": []}}, origin)
    employees = []
    er = random.Random(f"{w.seed}:employees")
    for i in range(1, 7):
        first, last = er.choice(("Ana", "Bo", "Cy", "Di", "Ed", "Flo")), er.choice(("Ng", "Ortiz", "Patel", "Quist", "Ruiz"))
        rec = b.put("Employee", {"Id": str(i), "GivenName": first, "FamilyName": last, "DisplayName": f"{first} {last} {i}",
                                 "PrintOnCheckName": f"{first} {last}", "Active": i != 6, "BillableTime": i <= 3,
                                 "EmployeeNumber": f"E{i:03d}", "HiredDate": (w.start - dt.timedelta(days=100 * i)).isoformat(),
                                 "PrimaryEmailAddr": {"Address": f"{first}.{last}{i}@tributary-trading.com".lower()}}, origin)
        employees.append(rec)

    # Vendors (plus Shopify, who takes payment fees).
    vendor_names = list(w.vendors) + ["Shopify Payments"]
    for i, name in enumerate(vendor_names, 1):
        b.put("Vendor", {"Id": str(i), "DisplayName": name, "CompanyName": name, "PrintOnCheckName": name,
                         "Active": i % 17 != 0, "Balance": 0, "Vendor1099": "Contractors" in name,
                         "CurrencyRef": ref("USD", "United States Dollar"),
                         "WebAddr": {"URI": "https://www." + "".join(c for c in name.lower() if c.isalnum()) + ".com"}}, origin)
    shopify_vendor = str(len(vendor_names))

    # Items: world products (+ shipping, a non-inventory gift wrap, an inactive legacy service).
    for p in w.products:
        iid = str(p.idx + 1)
        rec = {"Id": iid, "Name": p.name, "FullyQualifiedName": p.name, "Sku": p.sku, "Type": p.kind,
               "UnitPrice": cents(p.price), "Active": True, "Taxable": p.kind == "Inventory", "SubItem": False,
               "Description": p.name, "IncomeAccountRef": acct("product_income" if p.kind == "Inventory" else "service_income")}
        if p.kind == "Inventory":
            rec.update(PurchaseCost=cents(p.cost), TrackQtyOnHand=True, QtyOnHand=r.randint(20, 400),
                       InvStartDate=w.start.isoformat(), ExpenseAccountRef=acct("cogs"), AssetAccountRef=acct("inventory"))
        b.put("Item", rec, origin)
    n_items = len(w.products)
    b.put("Item", {"Id": str(n_items + 1), "Name": "Shipping", "FullyQualifiedName": "Shipping", "Type": "Service",
                   "UnitPrice": 0, "Active": True, "Taxable": False, "IncomeAccountRef": acct("shipping_income")}, origin)
    b.shipping_item = str(n_items + 1)
    b.put("Item", {"Id": str(n_items + 2), "Name": "Gift Wrap", "FullyQualifiedName": "Gift Wrap", "Type": "NonInventory",
                   "UnitPrice": 4.99, "Active": True, "Taxable": True, "IncomeAccountRef": acct("product_income"),
                   "ExpenseAccountRef": acct("Office Supplies")}, origin)
    b.put("Item", {"Id": str(n_items + 3), "Name": "Legacy Audit (retired)", "FullyQualifiedName": "Legacy Audit (retired)",
                   "Type": "Service", "UnitPrice": 900, "Active": False, "Taxable": False,
                   "IncomeAccountRef": acct("service_income")}, origin)

    # Customers: exactly the world's QuickBooks customer rows (Id = idx + 1), DisplayName unique.
    seen_names: set[str] = set()
    for qc in w.qbo_customers:
        name = qc.display_name
        while name in seen_names:
            name += " (2)"
        seen_names.add(name)
        rec = {"Id": str(qc.idx + 1), "DisplayName": name, "FullyQualifiedName": name, "PrintOnCheckName": name,
               "Active": qc.active, "Job": False, "BillWithParent": False, "Taxable": False, "Balance": 0,
               "BalanceWithJobs": 0, "CurrencyRef": ref("USD", "United States Dollar"),
               "PreferredDeliveryMethod": "Email", "SalesTermRef": ref("2"),
               "BillAddr": {"Id": str(1000 + qc.idx), "Line1": f"{100 + qc.idx} Market St", "City": "San Francisco",
                            "CountrySubDivisionCode": "CA", "PostalCode": "94103", "Country": "USA"}}
        if qc.company_name:
            rec["CompanyName"] = qc.company_name
            rec["CustomerTypeRef"] = {"value": "1"}
        else:
            rec["CustomerTypeRef"] = {"value": "2"}
        if qc.given:
            rec["GivenName"], rec["FamilyName"] = qc.given, qc.family
        if qc.email:
            rec["PrimaryEmailAddr"] = {"Address": qc.email}
        if qc.web:
            rec["WebAddr"] = {"URI": qc.web}
        b.put("Customer", rec, qc.created)

    item_id = {p.idx: str(p.idx + 1) for p in w.products}

    # Invoices and their payments.
    pay_methods = ("2", "3", "4", "6")
    for inv in w.invoices:
        iid = str(inv.idx + 1)
        cust = b.rows["Customer"][str(inv.billed_as + 1)]
        lines, sub = _sales_lines(b, [(item_id[p], q, u) for p, q, u in inv.lines])
        taxable = inv.taxable(w.products)
        tax = inv.tax
        total = sub + tax
        assert total == inv.total
        paid = 0
        linked = []
        updated = inv.created
        for k, (pday, amount) in enumerate(inv.payments):
            amount = min(amount, total - paid)
            if amount <= 0:
                continue
            paid += amount
            pid = str(inv.idx * 2 + k + 1)     # ≤ 2 payments per invoice → unique, stable ids
            pmoment = clamp(_at(pday, 18 + k))
            b.put("Payment", {"Id": pid, "TxnDate": pday.isoformat(), "CustomerRef": ref(cust["Id"], cust["DisplayName"]),
                              "TotalAmt": cents(amount), "UnappliedAmt": 0, "ProcessPayment": False,
                              "PaymentRefNum": f"{1000 + int(pid)}", "PaymentMethodRef": ref(pay_methods[int(pid) % 4]),
                              "DepositToAccountRef": acct("checking"), "ARAccountRef": acct("ar"),
                              "CurrencyRef": ref("USD", "United States Dollar"),
                              "Line": [{"Amount": cents(amount), "LinkedTxn": [{"TxnId": iid, "TxnType": "Invoice"}]}]},
                  pmoment)
            linked.append({"TxnId": pid, "TxnType": "Payment"})
            updated = max(updated, pmoment)
        rec = {"Id": iid, "DocNumber": f"INV-{inv.idx + 1001}", "TxnDate": inv.date.isoformat(),
               "DueDate": (inv.date + dt.timedelta(days=inv.terms_days)).isoformat(),
               "CustomerRef": ref(cust["Id"], cust["DisplayName"]), "SalesTermRef": ref(term_by_days[inv.terms_days]),
               "Line": lines, "TxnTaxDetail": _tax_detail(tax, "2", "1", 8.25, taxable),
               "TotalAmt": cents(total), "Balance": cents(total - paid), "HomeBalance": cents(total - paid),
               "CurrencyRef": ref("USD", "United States Dollar"), "LinkedTxn": linked,
               "EmailStatus": "EmailSent" if "PrimaryEmailAddr" in cust else "NotSet", "PrintStatus": "NotSet",
               "ApplyTaxAfterDiscount": False, "AllowOnlineCreditCardPayment": True, "AllowOnlineACHPayment": True,
               "GlobalTaxCalculation": "TaxExcluded"}
        if "PrimaryEmailAddr" in cust:
            rec["BillEmail"] = {"Address": cust["PrimaryEmailAddr"]["Address"]}
        if "BillAddr" in cust:
            rec["BillAddr"] = dict(cust["BillAddr"])
        b.put("Invoice", rec, clamp(inv.created), clamp(updated))

    # Shopify: one SalesReceipt per day (the payout), a RefundReceipt per refunded order,
    # one Purchase per month for payment fees (2.9% + 30¢ per order).
    by_day: dict[dt.date, list] = collections.OrderedDict()
    for o in w.orders:
        by_day.setdefault(local_date(o.at), []).append(o)
    fees_by_month: dict[str, int] = {}
    for k, (day, orders) in enumerate(by_day.items(), 1):
        qty: dict[int, int] = {}
        price: dict[int, int] = {}
        ship = tax = 0
        for o in orders:
            for p, q, u in o.lines:
                qty[p] = qty.get(p, 0) + q
                price[p] = u
            ship += o.shipping
            tax += o.tax
            fees_by_month[day.strftime("%Y-%m")] = fees_by_month.get(day.strftime("%Y-%m"), 0) + (o.total * 29 + 500) // 1000 + 30
        lines, sub = _sales_lines(b, [(item_id[p], qty[p], price[p]) for p in sorted(qty)], ship)
        total = sub + tax
        b.put("SalesReceipt", {"Id": str(k), "DocNumber": f"SHOP-{day:%Y%m%d}", "TxnDate": day.isoformat(),
                               "Line": lines, "TxnTaxDetail": _tax_detail(tax, "3", "2", 7.25, sub - ship),
                               "TotalAmt": cents(total), "Balance": 0, "DepositToAccountRef": acct("checking"),
                               "PaymentMethodRef": ref("3", "Visa"), "PaymentRefNum": f"payout-{day:%Y%m%d}",
                               "CurrencyRef": ref("USD", "United States Dollar"), "ClassRef": ref("1", "Retail"),
                               "DepartmentRef": ref("2", "Online Store"), "PrivateNote": f"Shopify payout, {len(orders)} orders",
                               "GlobalTaxCalculation": "TaxExcluded", "PrintStatus": "NotSet", "EmailStatus": "NotSet"},
              clamp(_at(day, 23)))
    k = 0
    for o in w.orders:
        if not o.refunded:
            continue
        k += 1
        lines, sub = _sales_lines(b, [(item_id[p], q, u) for p, q, u in o.lines], o.shipping)
        total = sub + o.tax
        day = local_date(o.refunded_at)
        b.put("RefundReceipt", {"Id": str(k), "DocNumber": f"REF-{o.idx + 1001}", "TxnDate": day.isoformat(),
                                "Line": lines, "TxnTaxDetail": _tax_detail(o.tax, "3", "2", 7.25, sub - o.shipping),
                                "TotalAmt": cents(total), "Balance": 0, "DepositToAccountRef": acct("checking"),
                                "PaymentMethodRef": ref("3", "Visa"), "PaymentType": "CreditCard",
                                "CurrencyRef": ref("USD", "United States Dollar"),
                                "PrivateNote": f"Shopify refund of order #{o.idx + 1001}",
                                "GlobalTaxCalculation": "TaxExcluded", "PrintStatus": "NotSet"},
              clamp(o.refunded_at))

    # Expenses: bills (paid later by BillPayment), card/cash purchases.
    cat_account = {c: A[c] if c in A else None for c, *_ in EXPENSE_CATEGORIES}
    cat_account["Inventory Purchases"] = A["cogs"]     # periodic-style restocking expensed to COGS
    nb = npur = nbp = 0
    for e in w.expenses:
        vend = b.rows["Vendor"][str(e.vendor + 1)]
        acct_id = cat_account[e.category]
        line = [{"Id": "1", "LineNum": 1, "Description": e.category, "Amount": cents(e.amount),
                 "DetailType": "AccountBasedExpenseLineDetail",
                 "AccountBasedExpenseLineDetail": {"AccountRef": ref(acct_id, b.account_name[acct_id]),
                                                   "BillableStatus": "NotBillable", "TaxCodeRef": ref("NON")}}]
        created = clamp(_at(e.date, 19))
        if e.paid_by == "bill":
            nb += 1
            bill_id = str(nb)
            linked = []
            updated = created
            if e.paid_on:
                nbp += 1
                pm = clamp(_at(e.paid_on, 20))
                b.put("BillPayment", {"Id": str(nbp), "TxnDate": e.paid_on.isoformat(), "VendorRef": ref(vend["Id"], vend["DisplayName"]),
                                      "PayType": "Check", "TotalAmt": cents(e.amount), "DocNumber": str(5000 + nbp),
                                      "CheckPayment": {"BankAccountRef": acct("checking"), "PrintStatus": "NeedToPrint"},
                                      "APAccountRef": acct("ap"), "CurrencyRef": ref("USD", "United States Dollar"),
                                      "Line": [{"Amount": cents(e.amount), "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}]}]}, pm)
                linked.append({"TxnId": str(nbp), "TxnType": "BillPayment"})
                updated = pm
            b.put("Bill", {"Id": bill_id, "DocNumber": f"B-{e.idx + 1:05d}", "TxnDate": e.date.isoformat(),
                           "DueDate": (e.date + dt.timedelta(days=30)).isoformat(), "VendorRef": ref(vend["Id"], vend["DisplayName"]),
                           "APAccountRef": acct("ap"), "SalesTermRef": ref("2"), "Line": line, "TotalAmt": cents(e.amount),
                           "Balance": 0 if e.paid_on else cents(e.amount), "LinkedTxn": linked,
                           "CurrencyRef": ref("USD", "United States Dollar")}, created, updated)
        else:
            npur += 1
            card = e.paid_by == "card"
            b.put("Purchase", {"Id": str(npur), "TxnDate": e.date.isoformat(), "PaymentType": "CreditCard" if card else "Cash",
                               "AccountRef": acct("visa" if card else "checking"), "Credit": False,
                               "EntityRef": {"value": vend["Id"], "name": vend["DisplayName"], "type": "Vendor"},
                               "Line": line, "TotalAmt": cents(e.amount), "CurrencyRef": ref("USD", "United States Dollar"),
                               "PrintStatus": "NotSet"}, created)
    svend = b.rows["Vendor"][shopify_vendor]
    for month in sorted(fees_by_month):
        npur += 1
        y, m = map(int, month.split("-"))
        day = min(_month_end(y, m), w.today - dt.timedelta(days=1))
        fee = fees_by_month[month]
        b.put("Purchase", {"Id": str(npur), "TxnDate": day.isoformat(), "PaymentType": "Cash", "AccountRef": acct("checking"),
                           "Credit": False, "EntityRef": {"value": svend["Id"], "name": svend["DisplayName"], "type": "Vendor"},
                           "Line": [{"Id": "1", "LineNum": 1, "Description": f"Shopify payment fees {month}", "Amount": cents(fee),
                                     "DetailType": "AccountBasedExpenseLineDetail",
                                     "AccountBasedExpenseLineDetail": {"AccountRef": acct("fees"), "BillableStatus": "NotBillable",
                                                                       "TaxCodeRef": ref("NON")}}],
                           "TotalAmt": cents(fee), "CurrencyRef": ref("USD", "United States Dollar"), "PrintStatus": "NotSet"},
              clamp(_at(day, 22)))

    # Month-end journal entries (payroll, depreciation), transfers, owner deposits.
    months = _months(w.start, w.today - dt.timedelta(days=1))
    nje = ntr = 0
    payroll = int(w.n(1_800_000, 1) * 1)   # cents per month, grows with scale
    for y, m in months:
        day = min(_month_end(y, m), w.today - dt.timedelta(days=1))
        moment = clamp(_at(day, 23))
        for memo, dr, cr, amount in (("Monthly payroll", "payroll", "checking", payroll + r.randrange(0, 200_000)),
                                     ("Monthly depreciation", "depreciation", "accum_depr", 41_667)):
            nje += 1
            b.put("JournalEntry", {"Id": str(nje), "DocNumber": f"JE-{nje:04d}", "TxnDate": day.isoformat(),
                                   "PrivateNote": memo, "Adjustment": False, "TotalAmt": cents(amount),
                                   "CurrencyRef": ref("USD", "United States Dollar"),
                                   "Line": [{"Id": "0", "LineNum": "1", "Description": memo, "Amount": cents(amount),
                                             "DetailType": "JournalEntryLineDetail",
                                             "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": acct(dr)}},
                                            {"Id": "1", "LineNum": "2", "Description": memo, "Amount": cents(amount),
                                             "DetailType": "JournalEntryLineDetail",
                                             "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": acct(cr)}}]},
                  moment)
        for frm, to, amount in (("checking", "savings", 250_000 + r.randrange(0, 100_000)),
                                ("checking", "visa", 300_000 + r.randrange(0, 300_000))):
            ntr += 1
            b.put("Transfer", {"Id": str(ntr), "TxnDate": day.isoformat(), "Amount": cents(amount),
                               "FromAccountRef": acct(frm), "ToAccountRef": acct(to),
                               "CurrencyRef": ref("USD", "United States Dollar"),
                               "PrivateNote": "Pay card" if to == "visa" else "Sweep to savings"}, moment)
    for k in range(1, 5):
        day = w.start + dt.timedelta(days=(k - 1) * 180 + 1)
        amount = 2_500_000 if k == 1 else 500_000
        b.put("Deposit", {"Id": str(k), "TxnDate": day.isoformat(), "DepositToAccountRef": acct("checking"),
                          "TotalAmt": cents(amount), "CurrencyRef": ref("USD", "United States Dollar"),
                          "PrivateNote": "Owner investment",
                          "Line": [{"Id": "1", "LineNum": 1, "Amount": cents(amount), "DetailType": "DepositLineDetail",
                                    "DepositLineDetail": {"AccountRef": acct("owner_equity"), "PaymentMethodRef": ref("6")}}]},
              clamp(_at(day, 18)))

    # Credit memos (unapplied: they lower the customer's balance), estimates, POs,
    # vendor credits, time activities, budgets: small, but real.
    cust_ids = sorted(b.rows["Customer"], key=int)
    services = [p for p in w.products if p.kind == "Service"]
    for k in range(1, w.n(40) + 1):
        cid = cust_ids[r.randrange(len(cust_ids))]
        cust = b.rows["Customer"][cid]
        created_day = max(dt.date.fromisoformat(cust["MetaData"]["CreateTime"][:10]), w.start)
        day = created_day + dt.timedelta(days=r.randrange(max(1, (w.today - created_day).days - 1)))
        p = services[r.randrange(len(services))]
        lines, sub = _sales_lines(b, [(item_id[p.idx], 1, p.price // 4)])
        b.put("CreditMemo", {"Id": str(k), "DocNumber": f"CM-{k:04d}", "TxnDate": day.isoformat(),
                             "CustomerRef": ref(cid, cust["DisplayName"]), "Line": lines,
                             "TxnTaxDetail": {"TotalTax": 0}, "TotalAmt": cents(sub), "Balance": cents(sub),
                             "RemainingCredit": 0, "CurrencyRef": ref("USD", "United States Dollar"),
                             "PrintStatus": "NotSet", "EmailStatus": "NotSet"}, clamp(_at(day, 19)))
    for k, deal in enumerate([d for d in w.deals if d.stage in ("proposal", "won", "lost")][: w.n(120)], 1):
        co = w.companies[deal.company]
        cid = next((str(q.idx + 1) for q in w.qbo_customers if q.uid == co.uid), cust_ids[k % len(cust_ids)]) \
            if w.scale <= 5 else cust_ids[k % len(cust_ids)]
        cust = b.rows["Customer"][cid]
        p = services[k % len(services)]
        qty = max(1, deal.amount // max(1, p.price))
        qty = min(qty, 50)
        lines, sub = _sales_lines(b, [(item_id[p.idx], qty, p.price)])
        day = local_date(deal.created)
        status = {"proposal": "Pending", "won": "Accepted", "lost": "Rejected"}[deal.stage]
        b.put("Estimate", {"Id": str(k), "DocNumber": f"EST-{k:04d}", "TxnDate": day.isoformat(),
                           "ExpirationDate": (day + dt.timedelta(days=30)).isoformat(), "TxnStatus": status,
                           "CustomerRef": ref(cid, cust["DisplayName"]), "Line": lines, "TxnTaxDetail": {"TotalTax": 0},
                           "TotalAmt": cents(sub), "CurrencyRef": ref("USD", "United States Dollar"),
                           "PrintStatus": "NotSet", "EmailStatus": "NotSet"}, clamp(deal.created))
    goods = [p for p in w.products if p.kind == "Inventory"]
    wholesale = next((v for v in b.rows["Vendor"].values() if v["DisplayName"] == "Wholesale Goods Ltd"), None)
    for k in range(1, w.n(24) + 1):
        day = w.start + dt.timedelta(days=k * (len(months) * 30 // (w.n(24) + 1)))
        day = min(day, w.today - dt.timedelta(days=1))
        lines, sub = [], 0
        for n, p in enumerate(r.sample(goods, min(3, len(goods))), 1):
            q = r.randint(10, 60)
            sub += q * p.cost
            lines.append({"Id": str(n), "LineNum": n, "Amount": cents(q * p.cost), "DetailType": "ItemBasedExpenseLineDetail",
                          "ItemBasedExpenseLineDetail": {"ItemRef": ref(item_id[p.idx], p.name), "Qty": q,
                                                         "UnitPrice": cents(p.cost), "BillableStatus": "NotBillable",
                                                         "TaxCodeRef": ref("NON")}})
        b.put("PurchaseOrder", {"Id": str(k), "DocNumber": f"PO-{k:04d}", "TxnDate": day.isoformat(),
                                "VendorRef": ref(wholesale["Id"], wholesale["DisplayName"]), "APAccountRef": acct("ap"),
                                "POStatus": "Closed" if day < w.today - dt.timedelta(days=30) else "Open",
                                "Line": lines, "TotalAmt": cents(sub), "CurrencyRef": ref("USD", "United States Dollar"),
                                "EmailStatus": "NotSet"}, clamp(_at(day, 17)))
    for k in range(1, w.n(8) + 1):
        day = w.start + dt.timedelta(days=r.randrange(0, (w.today - w.start).days - 1))
        vend = b.rows["Vendor"][str(r.randrange(len(w.vendors)) + 1)]
        amount = r.randrange(2_000, 40_000)
        b.put("VendorCredit", {"Id": str(k), "DocNumber": f"VC-{k:04d}", "TxnDate": day.isoformat(),
                               "VendorRef": ref(vend["Id"], vend["DisplayName"]), "APAccountRef": acct("ap"),
                               "TotalAmt": cents(amount), "Balance": cents(amount), "CurrencyRef": ref("USD", "United States Dollar"),
                               "Line": [{"Id": "1", "LineNum": 1, "Description": "Vendor refund", "Amount": cents(amount),
                                         "DetailType": "AccountBasedExpenseLineDetail",
                                         "AccountBasedExpenseLineDetail": {"AccountRef": acct("Office Supplies"),
                                                                           "BillableStatus": "NotBillable", "TaxCodeRef": ref("NON")}}]},
              clamp(_at(day, 16)))
    billable = [e for e in employees if e["BillableTime"]]
    consult = item_id[services[0].idx]
    for k in range(1, w.n(80) + 1):
        emp = billable[k % len(billable)]
        cid = cust_ids[r.randrange(len(cust_ids))]
        day = w.start + dt.timedelta(days=r.randrange(0, (w.today - w.start).days - 1))
        b.put("TimeActivity", {"Id": str(k), "TxnDate": day.isoformat(), "NameOf": "Employee",
                               "EmployeeRef": ref(emp["Id"], emp["DisplayName"]), "CustomerRef": ref(cid, b.rows["Customer"][cid]["DisplayName"]),
                               "ItemRef": ref(consult, "Consulting Hours"), "BillableStatus": "Billable", "Taxable": False,
                               "HourlyRate": 150, "Hours": r.randint(1, 8), "Minutes": r.choice((0, 15, 30, 45)),
                               "Description": "Consulting"}, clamp(_at(day, 20)))
    expense_accounts = [a for a in b.rows["Account"].values() if a["AccountType"] in ("Expense", "Income") and a["Active"]]
    for k, year in enumerate(sorted({w.start.year, (w.today - dt.timedelta(days=1)).year}), 1):
        detail = []
        for a in expense_accounts:
            for month in range(1, 13):
                detail.append({"BudgetDate": f"{year}-{month:02d}-01", "Amount": cents(r.randrange(50_000, 900_000, 100)),
                               "AccountRef": ref(a["Id"], a["Name"])})
        b.put("Budget", {"Id": str(k), "Name": f"FY{year} Operating Budget", "StartDate": f"{year}-01-01",
                         "EndDate": f"{year}-12-31", "BudgetType": "ProfitAndLoss", "BudgetEntryType": "Monthly",
                         "Active": True, "BudgetDetail": detail}, clamp(_at(dt.date(year, 1, 2) if dt.date(year, 1, 2) > w.start else w.start, 16)))

    recompute_balances(b)
    return b


def _month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))


def _months(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def recompute_balances(b: Books) -> None:
    """Customer/Vendor Balance and Account CurrentBalance, from open documents and the ledger.
    (QBO does not bump LastUpdatedTime for balance-only changes, nor do we.)"""
    cust_bal: dict[str, int] = {}
    for inv in b.rows["Invoice"].values():
        cid = inv["CustomerRef"]["value"]
        cust_bal[cid] = cust_bal.get(cid, 0) + to_cents(inv["Balance"])
    for cm in b.rows["CreditMemo"].values():
        cid = cm["CustomerRef"]["value"]
        cust_bal[cid] = cust_bal.get(cid, 0) - to_cents(cm["Balance"])
    for cid, c in b.rows["Customer"].items():
        c["Balance"] = c["BalanceWithJobs"] = cents(cust_bal.get(cid, 0))
    vend_bal: dict[str, int] = {}
    for bill in b.rows["Bill"].values():
        vid = bill["VendorRef"]["value"]
        vend_bal[vid] = vend_bal.get(vid, 0) + to_cents(bill["Balance"])
    for vc in b.rows["VendorCredit"].values():
        vid = vc["VendorRef"]["value"]
        vend_bal[vid] = vend_bal.get(vid, 0) - to_cents(vc["Balance"])
    for vid, v in b.rows["Vendor"].items():
        v["Balance"] = cents(vend_bal.get(vid, 0))
    acct_bal: dict[str, int] = {}
    for day in b.ledger().values():
        for a, v in day.items():
            acct_bal[a] = acct_bal.get(a, 0) + v
    for aid, a in b.rows["Account"].items():
        if a["AccountType"] in ASSET_TYPES or a["AccountType"] in LIABILITY_TYPES or a["AccountType"] == "Equity":
            v = acct_bal.get(aid, 0)
            v = v if a["Classification"] == "Asset" else -v
            a["CurrentBalance"] = a["CurrentBalanceWithSubAccounts"] = cents(v)


# ---- query language ----------------------------------------------------------------------------
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<what>\*|COUNT\(\s*\*\s*\))\s+FROM\s+(?P<entity>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s*BY\s+(?P<order>[\w.]+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+STARTPOSITION\s+(?P<start>\d+))?"
    r"(?:\s+MAXRESULTS\s+(?P<max>\d+))?\s*$", re.I | re.S)
_COND_TIME = re.compile(r"^(?:Meta[Dd]ata|METADATA)\.(LastUpdatedTime|CreateTime)\s*(>=|<=|>|<|=)\s*'([^']+)'$", re.I)
_COND_ACTIVE_IN = re.compile(r"^Active\s+IN\s*\(\s*(true|false)\s*(?:,\s*(true|false)\s*)?\)$", re.I)
_COND_ACTIVE_EQ = re.compile(r"^Active\s*=\s*(true|false)$", re.I)
_COND_ID = re.compile(r"^Id\s*=\s*'(\d+)'$", re.I)
_COND_ID_IN = re.compile(r"^Id\s+IN\s*\(([^)]*)\)$", re.I)
# Any other property: Intuit's operators on a top-level field, a reference (CustomerRef compares its
# value) or a dotted path. The sandbox does not check which fields Intuit marks filterable.
_COND_FIELD = re.compile(r"^(?P<field>[A-Za-z]\w*(?:\.\w+)*)\s*(?P<op>>=|<=|>|<|=|\bLIKE\b|\bIN\b)\s*"
                         r"(?P<value>'(?:[^'\\]|\\.)*'|\((?:'(?:[^'\\]|\\.)*'|[^)'])*\)|true|false|-?\d+(?:\.\d+)?)$", re.I)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """`text` split on `separator` (a regex, any case) where it is not inside a 'quoted value'."""
    quoted: list[str] = []

    def hide(match: re.Match) -> str:
        quoted.append(match.group(0))
        return f"\x00{len(quoted) - 1}\x00"
    masked = _QUOTED.sub(hide, text)
    return [re.sub(r"\x00(\d+)\x00", lambda m: quoted[int(m[1])], part)
            for part in re.split(separator, masked, flags=re.I)]


def parse_query(text: str) -> dict:
    m = _QUERY.match(text or "")
    if not m:
        raise QboError(400, "4000", "Error parsing query", f"QueryParserError: Encountered unsupported syntax in \"{(text or '')[:80]}\"")
    entity = ENTITY_BY_LOWER.get(m["entity"].lower())
    if not entity:
        raise QboError(400, "4001", "Invalid query", f"QueryValidationError: value {m['entity']} is not a supported entity")
    q = {"entity": entity, "count": m["what"] != "*", "time": [], "active": None, "ids": None, "fields": [],
         "desc": (m["dir"] or "ASC").upper() == "DESC", "start": int(m["start"] or 1),
         "max": min(int(m["max"] or 100), MAX_PAGE)}
    if m["order"] and m["order"].lower() not in ("metadata.lastupdatedtime", "id"):
        raise QboError(400, "4000", "Error parsing query", f"QueryParserError: ORDER BY {m['order']} is not supported here")
    if q["start"] < 1:
        raise QboError(400, "4000", "Error parsing query", "QueryParserError: STARTPOSITION must be >= 1")
    for cond in _split_outside_quotes(m["where"], r"\s+AND\s+") if m["where"] else []:
        cond = cond.strip()
        if (c := _COND_TIME.match(cond)):
            if c[1].lower() != "lastupdatedtime":
                raise QboError(400, "4000", "Error parsing query", "QueryParserError: only MetaData.LastUpdatedTime is supported here")
            try:
                q["time"].append((c[2], parse_time(c[3]).timestamp()))
            except ValueError:
                raise QboError(400, "4000", "Error parsing query", f"QueryParserError: invalid date-time '{c[3]}'") from None
        elif (c := _COND_ACTIVE_IN.match(cond)):
            q["active"] = {v.lower() == "true" for v in (c[1], c[2]) if v}
        elif (c := _COND_ACTIVE_EQ.match(cond)):
            q["active"] = {c[1].lower() == "true"}
        elif (c := _COND_ID.match(cond)):
            q["ids"] = {c[1]}
        elif (c := _COND_ID_IN.match(cond)):
            q["ids"] = {v.strip().strip("'") for v in c[1].split(",")}
        elif (c := _COND_FIELD.match(cond)):
            op, value = c["op"].upper(), c["value"]
            if (op == "IN") != value.startswith("(") or value == "()":
                raise QboError(400, "4000", "Error parsing query", f"QueryParserError: IN takes a list: \"{cond[:80]}\"")
            try:
                values = [_literal(v) for v in (_split_outside_quotes(value[1:-1], r"\s*,\s*") if op == "IN" else [value])]
            except ArithmeticError:
                raise QboError(400, "4000", "Error parsing query", f"QueryParserError: invalid value in \"{cond[:80]}\"") from None
            q["fields"].append((c["field"].split("."), op, values))
        else:
            raise QboError(400, "4000", "Error parsing query", f"QueryParserError: Encountered unsupported condition \"{cond[:80]}\"")
    return q


_CMP = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b, "=": lambda a, b: a == b}


def _literal(text: str):
    """A query value: 'quoted text' (with \\' inside), true / false, or a number."""
    text = text.strip()
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return Decimal(text)


def _field_matches(rec: dict, path: list[str], op: str, values: list) -> bool:
    value = rec
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, dict):
        value = value.get("value")   # a reference: CustomerRef = '58'
    if value is None:
        return False
    if op == "LIKE":   # % is the only wildcard; QuickBooks compares without regard to case
        pattern = "^" + ".*".join(re.escape(part) for part in str(values[0]).split("%")) + "$"
        return re.match(pattern, str(value), re.I | re.S) is not None
    def same_kind(wanted):
        if isinstance(wanted, bool) or isinstance(value, bool):
            return value, wanted
        if isinstance(wanted, Decimal) or isinstance(value, (int, float)):
            try:
                return Decimal(str(value)), Decimal(str(wanted))
            except ArithmeticError:
                return str(value), str(wanted)
        return str(value), str(wanted)
    if op == "IN":
        return any(a == b for a, b in map(same_kind, values))
    return _CMP[op](*same_kind(values[0]))


def run_query(books: Books, q: dict) -> dict:
    entity = q["entity"]
    order = books.ordered(entity)
    lo, hi = 0, len(order)
    for op, t in q["time"]:           # narrow with bisect where we can, filter the rest
        if op in (">=", ">"):
            lo = max(lo, bisect_left(order, (t, -1, "")))
    rows = books.rows[entity]
    active = q["active"]
    if active is None and entity in NAME_LISTS:
        active = {True}
    out = []
    for t, _, rid in (order[lo:hi] if not q["desc"] else reversed(order[lo:hi])):
        if q["time"] and not all(_CMP[op](t, bound) for op, bound in q["time"]):
            continue
        if q["ids"] is not None and rid not in q["ids"]:
            continue
        rec = rows[rid]
        if active is not None and "Active" in rec and rec["Active"] not in active:
            continue
        if not all(_field_matches(rec, path, op, values) for path, op, values in q["fields"]):
            continue
        out.append(rec)
    if q["count"]:
        return {"totalCount": len(out)}
    page = out[q["start"] - 1: q["start"] - 1 + q["max"]]
    if not page:
        return {}                     # what QBO answers past the end; the tap's loop relies on it
    return {entity: page, "startPosition": q["start"], "maxResults": len(page)}


# ---- OAuth tokens ------------------------------------------------------------------------------
class TokenStore:
    """Rotating refresh tokens and 1-hour access tokens, on the sandbox clock.

    The refresh tokens are kept in `saved_to` (the state dir) when given: Intuit remembers the
    token it rotated to, so a sandbox restarted after a rotation must still accept the token the
    client stored, not only the first one. Access tokens live for an hour and are not kept."""

    def __init__(self, clock: Clock, saved_to: Path | None = None) -> None:
        self.clock = clock
        self.saved_to = saved_to
        self.reset()

    def reset(self) -> None:
        now = self.clock.now()
        self.refresh = {INITIAL_REFRESH_TOKEN: {"issued": now, "used": now}}
        self.access: dict[str, dt.datetime] = {}
        self.access_ttl = ACCESS_TOKEN_TTL   # shortened by tests: an hour's expiry within one run
        self.serial = 0
        self.save()

    def save(self) -> None:
        if self.saved_to is None:
            return
        self.saved_to.parent.mkdir(parents=True, exist_ok=True)
        self.saved_to.write_text(json.dumps({"serial": self.serial, "refresh": {
            token: {k: t.isoformat() for k, t in info.items()} for token, info in self.refresh.items()}}))

    def restore(self) -> bool:
        """The refresh tokens a previous run of the sandbox saved, if any."""
        try:
            saved = json.loads(self.saved_to.read_text()) if self.saved_to else None
            refresh = {token: {k: dt.datetime.fromisoformat(t) for k, t in info.items()}
                       for token, info in saved["refresh"].items()}
            serial = int(saved["serial"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        self.refresh, self.serial = refresh, serial
        return True

    def current_refresh(self) -> str | None:
        return max(self.refresh, key=lambda k: self.refresh[k]["issued"], default=None)

    def age(self, by: dt.timedelta) -> None:
        for info in self.refresh.values():
            info["issued"] -= by
            info["used"] -= by
        self.access = {token: expiry - by for token, expiry in self.access.items()}
        self.save()

    def revoke(self) -> None:
        self.refresh.clear()
        self.access.clear()
        self.save()

    def expire_access(self) -> int:
        """Every access token issued so far expires now (refresh tokens stay good)."""
        now = self.clock.now()
        self.access = {token: min(expiry, now) for token, expiry in self.access.items()}
        return len(self.access)

    def exchange(self, token: str) -> dict:
        now = self.clock.now()
        info = self.refresh.get(token)
        if info is None or (now - info["used"]).total_seconds() > REFRESH_IDLE_LIMIT:
            if self.refresh.pop(token, None) is not None:
                self.save()
            raise PermissionError("invalid_grant")
        if (now - info["issued"]).total_seconds() >= REFRESH_ROTATE_AFTER:
            self.serial += 1
            del self.refresh[token]
            token = f"sandbox-refresh-token-{self.serial}-{secrets.token_hex(6)}"
            self.refresh[token] = {"issued": now, "used": now}
        else:
            info["used"] = now
        self.save()
        access = "sandbox-access-" + secrets.token_urlsafe(24)
        self.access[access] = now + dt.timedelta(seconds=self.access_ttl)
        remaining = REFRESH_IDLE_LIMIT - int((now - self.refresh[token]["used"]).total_seconds())
        return {"access_token": access, "token_type": "bearer", "refresh_token": token,
                "expires_in": self.access_ttl, "x_refresh_token_expires_in": remaining}

    def check_access(self, header: str | None) -> str | None:
        """None when valid, else the reason."""
        if not header or not header.lower().startswith("bearer "):
            return "No bearer token"
        exp = self.access.get(header[7:].strip())
        if exp is None:
            return "Token invalid"
        if self.clock.now() >= exp:
            return "Token expired"
        return None


class Throttle:
    """QBO-style per-realm limits. OFF by default: the demo and most tests should run at full speed;
    turn it on (control API) to test a tap's behaviour under Intuit's real limits."""

    def __init__(self) -> None:
        self.configure(enabled=False)

    def configure(self, enabled=False, per_second=10, per_minute=500, batch_per_minute=40) -> dict:
        self.enabled, self.per_second, self.per_minute, self.batch_per_minute = bool(enabled), per_second, per_minute, batch_per_minute
        self.hits: collections.deque = collections.deque()
        self.batch_hits: collections.deque = collections.deque()
        return self.settings()

    def settings(self) -> dict:
        return {"enabled": self.enabled, "per_second": self.per_second, "per_minute": self.per_minute,
                "batch_per_minute": self.batch_per_minute}

    def allow(self, is_batch: bool) -> bool:
        if not self.enabled:
            return True
        now = time.monotonic()
        for dq in (self.hits, self.batch_hits):
            while dq and now - dq[0] > 60:
                dq.popleft()
        last_second = sum(1 for t in self.hits if now - t <= 1)
        if last_second >= self.per_second or len(self.hits) >= self.per_minute:
            return False
        if is_batch and len(self.batch_hits) >= self.batch_per_minute:
            return False
        self.hits.append(now)
        if is_batch:
            self.batch_hits.append(now)
        return True


# ---- reports -----------------------------------------------------------------------------------
def _col_title(start: dt.date, end: dt.date, by: str) -> str:
    if by == "Days":
        return f"{start:%b} {start.day}, {start.year}"
    if by == "Month":
        return f"{start:%b %Y}"
    return "Total"


def _periods(start: dt.date, end: dt.date, by: str) -> list[tuple[dt.date, dt.date]]:
    if by == "Days":
        return [(start + dt.timedelta(days=i),) * 2 for i in range((end - start).days + 1)]
    if by == "Month":
        out, cur = [], start
        while cur <= end:
            last = min(_month_end(cur.year, cur.month), end)
            out.append((cur, last))
            cur = last + dt.timedelta(days=1)
        return out
    return []


def profit_and_loss(b: Books, start: dt.date, end: dt.date, by: str, now: dt.datetime) -> dict:
    """Accrual P&L from the ledger. Data cells are "" when the account had no activity in that
    column (QBO leaves them blank); Summary cells are always numbers ("0.00")."""
    periods = _periods(start, end, by)
    led = b.ledger()
    # amounts[account][period index] in "natural" sign (income positive, expenses positive)
    amounts: dict[str, dict[int, int]] = {}
    totals: dict[str, int] = {}
    col_of: dict[str, int] = {}
    for i, (ps, pe) in enumerate(periods):
        for k in range((pe - ps).days + 1):
            col_of[(ps + dt.timedelta(days=k)).isoformat()] = i
    d = start
    while d <= end:
        key = d.isoformat()
        for aid, debit in led.get(key, {}).items():
            atype = b.account_type(aid)
            if atype not in ("Income", "Cost of Goods Sold", "Expense"):
                continue
            v = -debit if atype == "Income" else debit
            per = amounts.setdefault(aid, {})
            if periods:
                per[col_of[key]] = per.get(col_of[key], 0) + v
            totals[aid] = totals.get(aid, 0) + v
        d += dt.timedelta(days=1)

    ncols = len(periods)

    def cells(per: dict[int, int] | None, total: int, data: bool) -> list[dict]:
        out = []
        for i in range(ncols):
            v = (per or {}).get(i)
            out.append({"value": "" if (v is None and data) else fmt_money(v or 0)})
        out.append({"value": fmt_money(total)})
        return out

    def col_sums(aids: list[str]) -> tuple[dict[int, int], int]:
        per: dict[int, int] = {}
        for aid in aids:
            for i, v in amounts.get(aid, {}).items():
                per[i] = per.get(i, 0) + v
        return per, sum(totals.get(a, 0) for a in aids)

    def combine(a, b_, sign):
        per = {i: a[0].get(i, 0) + sign * b_[0].get(i, 0) for i in range(ncols)}
        return per, a[1] + sign * b_[1]

    rows = []
    group_sums = {}
    for group, atype, label in PL_GROUPS:
        aids = sorted((a for a in amounts if b.account_type(a) == atype), key=lambda a: b.account_name[a])
        sums = col_sums(aids)
        group_sums[group] = sums
        data_rows = [{"ColData": [{"value": b.account_name[a], "id": a}] + cells(amounts[a], totals[a], True),
                      "type": "Data"} for a in aids]
        section = {"Header": {"ColData": [{"value": atype if group != "COGS" else "Cost of Goods Sold"}] + [{"value": ""}] * (ncols + 1)},
                   "Rows": {"Row": data_rows},
                   "Summary": {"ColData": [{"value": label}] + cells(sums[0], sums[1], False)},
                   "type": "Section", "group": group}
        if group == "Income":
            section["Header"]["ColData"][0]["value"] = "Income"
        if group == "Expenses":
            section["Header"]["ColData"][0]["value"] = "Expenses"
        rows.append(section)
        if group == "COGS":
            gp = combine(group_sums["Income"], group_sums["COGS"], -1)
            group_sums["GrossProfit"] = gp
            rows.append({"Summary": {"ColData": [{"value": "Gross Profit"}] + cells(gp[0], gp[1], False)},
                         "type": "Section", "group": "GrossProfit"})
    noi = combine(group_sums["GrossProfit"], group_sums["Expenses"], -1)
    rows.append({"Summary": {"ColData": [{"value": "Net Operating Income"}] + cells(noi[0], noi[1], False)},
                 "type": "Section", "group": "NetOperatingIncome"})
    rows.append({"Summary": {"ColData": [{"value": "Net Income"}] + cells(noi[0], noi[1], False)},
                 "type": "Section", "group": "NetIncome"})
    columns = [{"ColTitle": "", "ColType": "Account", "MetaData": [{"Name": "ColKey", "Value": "account"}]}]
    for ps, pe in periods:
        columns.append({"ColTitle": _col_title(ps, pe, by), "ColType": "Money",
                        "MetaData": [{"Name": "StartDate", "Value": ps.isoformat()},
                                     {"Name": "EndDate", "Value": pe.isoformat()},
                                     {"Name": "ColKey", "Value": ps.isoformat() if by == "Days" else f"{ps:%b %Y}"}]})
    columns.append({"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]})
    return {"Header": _report_header("ProfitAndLoss", start, end, by or "Total", now, not amounts),
            "Columns": {"Column": columns}, "Rows": {"Row": rows}}


def _report_header(name: str, start: dt.date, end: dt.date, by: str, now: dt.datetime, empty: bool) -> dict:
    return {"Time": qbo_time(now), "ReportName": name, "ReportBasis": "Accrual",
            "StartPeriod": start.isoformat(), "EndPeriod": end.isoformat(), "SummarizeColumnsBy": by,
            "Currency": "USD", "Option": [{"Name": "AccountingStandard", "Value": "GAAP"},
                                          {"Name": "NoReportData", "Value": "true" if empty else "false"}]}


def balance_sheet(b: Books, start: dt.date, end: dt.date, now: dt.datetime) -> dict:
    """Balances as of `end`; equity shows Retained Earnings (prior years' profit) and Net Income
    (this fiscal year, January–`end`), so TOTAL ASSETS == TOTAL LIABILITIES AND EQUITY."""
    bal: dict[str, int] = {}
    pl_before_year = pl_this_year = 0
    fy_start = dt.date(end.year, 1, 1).isoformat()
    end_s = end.isoformat()
    for day, accts in b.ledger().items():
        if day > end_s:
            continue
        for aid, debit in accts.items():
            atype = b.account_type(aid)
            if atype in ("Income", "Cost of Goods Sold", "Expense"):
                if day < fy_start:
                    pl_before_year -= debit
                else:
                    pl_this_year -= debit
            else:
                bal[aid] = bal.get(aid, 0) + debit

    def section(title, types, sign, summary, extra=()):
        aids = sorted((a for a in bal if b.account_type(a) in types and bal[a]), key=lambda a: (types.index(b.account_type(a)), b.account_name[a]))
        data = [{"ColData": [{"value": b.account_name[a], "id": a}, {"value": fmt_money(sign * bal[a])}], "type": "Data"} for a in aids]
        total = sum(sign * bal[a] for a in aids)
        for label, v in extra:
            data.append({"ColData": [{"value": label}, {"value": fmt_money(v)}], "type": "Data"})
            total += v
        return {"Header": {"ColData": [{"value": title}, {"value": ""}]}, "Rows": {"Row": data},
                "Summary": {"ColData": [{"value": summary}, {"value": fmt_money(total)}]}, "type": "Section"}, total

    assets, ta = section("ASSETS", ASSET_TYPES, 1, "TOTAL ASSETS")
    assets["group"] = "TotalAssets"
    liab, tl = section("Liabilities", LIABILITY_TYPES, -1, "Total Liabilities")
    liab["group"] = "Liabilities"
    eq, te = section("Equity", ("Equity",), -1, "Total Equity",
                     extra=(("Retained Earnings (prior years)", pl_before_year), ("Net Income", pl_this_year)))
    eq["group"] = "Equity"
    le = {"Header": {"ColData": [{"value": "LIABILITIES AND EQUITY"}, {"value": ""}]}, "Rows": {"Row": [liab, eq]},
          "Summary": {"ColData": [{"value": "TOTAL LIABILITIES AND EQUITY"}, {"value": fmt_money(tl + te)}]},
          "type": "Section", "group": "TotalLiabilitiesAndEquity"}
    return {"Header": _report_header("BalanceSheet", start, end, "Total", now, False),
            "Columns": {"Column": [{"ColTitle": "", "ColType": "Account", "MetaData": [{"Name": "ColKey", "Value": "account"}]},
                                   {"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]}]},
            "Rows": {"Row": [assets, le]}}


def monthly_pl_totals(b: Books) -> dict:
    out: dict[str, dict[str, int]] = {}
    for day, accts in b.ledger().items():
        m = day[:7]
        for aid, debit in accts.items():
            atype = b.account_type(aid)
            key = {"Income": "income", "Cost of Goods Sold": "cogs", "Expense": "expenses"}.get(atype)
            if key:
                slot = out.setdefault(m, {"income": 0, "cogs": 0, "expenses": 0})
                slot[key] += -debit if key == "income" else debit
    return {m: {**{k: cents(v) for k, v in s.items()}, "net_income": cents(s["income"] - s["cogs"] - s["expenses"])}
            for m, s in sorted(out.items())}


# ---- the simulator (HTTP) ----------------------------------------------------------------------
class QuickBooksSim:
    def __init__(self, world: World, clock: Clock, state_dir: Path | None = None) -> None:
        self.clock = clock
        self.tokens = TokenStore(clock)
        self.throttle = Throttle()
        self.load(world)
        if state_dir is not None:  # from here on the refresh tokens outlive a restart
            self.tokens.saved_to = Path(state_dir) / TOKENS_FILE
            self.tokens.restore() or self.tokens.save()

    def load(self, world: World) -> None:
        self.world = world
        self.books = project(world)
        self.tokens.reset()
        self.throttle.configure(enabled=False)
        self.mutations = 0

    # -- plumbing --
    def _json(self, payload: dict, status: int = 200) -> web.Response:
        payload.setdefault("time", qbo_stamp(self.clock.now()))
        return web.Response(status=status, text=json.dumps(payload, separators=(",", ":")), content_type="application/json")

    def _fault(self, err: QboError) -> web.Response:
        return self._json({"Fault": err.body()}, err.status)

    def _guard(self, request: web.Request, is_batch: bool = False) -> web.Response | None:
        """Auth, realm, minor version and throttling, in QBO's order."""
        if request.match_info.get("realm") != REALM_ID:
            return self._json({"Fault": {"Error": [{"Message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                                                     "Detail": "The realm id in the URL does not match the authorized company", "code": "3100"}],
                                          "type": "AUTHORIZATION"}}, 403)
        reason = self.tokens.check_access(request.headers.get("Authorization"))
        if reason:
            return self._json({"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                                     "detail": f"{reason}: authentication failed", "code": "3200"}],
                                         "type": "AUTHENTICATION"}}, 401)
        mv = request.query.get("minorversion")
        if mv is not None and (not mv.isdigit() or int(mv) < MIN_MINOR_VERSION):
            return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                        f"Minor version {mv} is no longer supported; use minorversion={MIN_MINOR_VERSION} or later"))
        if not self.throttle.allow(is_batch):
            return throttle_response(self.clock.now())
        return None

    def routes(self) -> list:
        base = "/v3/company/{realm}"
        return [web.post("/oauth2/v1/tokens/bearer", self.token),
                web.get("/.well-known/openid_configuration/", self.discovery_document),
                web.get("/.well-known/openid_sandbox_configuration/", self.discovery_document),
                web.get(base + "/companyinfo/{cid}", self.company_info),
                web.get(base + "/query", self.query), web.post(base + "/query", self.query),
                web.post(base + "/batch", self.batch),
                web.get(base + "/cdc", self.cdc),
                web.get(base + "/reports/{report}", self.report),
                web.get(base + "/{entity}/{entity_id}", self.read_one)]   # last: the routes above win

    def control_routes(self) -> list:
        base = "/_sandbox/quickbooks"
        return [web.post(base + "/throttle", self.ctl_throttle), web.get(base + "/throttle", self.ctl_throttle),
                web.post(base + "/mutate", self.ctl_mutate), web.post(base + "/revoke", self.ctl_revoke),
                web.post(base + "/edit", self.ctl_edit),
                web.get(base + "/truth", self.ctl_truth), web.get(base + "/truth/rows", self.ctl_truth_rows),
                web.get(base + "/truth/profit-and-loss", self.ctl_truth_profit_and_loss),
                web.get(base + "/tokens", self.ctl_tokens),
                web.post(base + "/tokens/age", self.ctl_age_tokens),
                web.post(base + "/tokens/access-ttl", self.ctl_access_ttl)]

    # -- vendor endpoints --
    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            import base64
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:  # noqa: BLE001 - malformed header is just a bad client
                cid = secret = None
        if cid != CLIENT_ID or secret != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            return web.json_response(self.tokens.exchange(form.get("refresh_token", "")))
        except PermissionError:
            return web.json_response({"error": "invalid_grant"}, status=400)

    async def discovery_document(self, request: web.Request) -> web.Response:
        """Intuit's OpenID discovery document (developer.intuit.com), which Intuit's OAuth client
        (intuit-oauth's AuthClient) reads before anything else, to find the token endpoint."""
        return web.json_response({
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": "https://appcenter.intuit.com/connect/oauth2",
            "token_endpoint": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
            "revocation_endpoint": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            "jwks_uri": "https://oauth.platform.intuit.com/op/v1/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"]})

    async def company_info(self, request: web.Request) -> web.Response:
        if (resp := self._guard(request)):
            return resp
        return self._json({"CompanyInfo": {
            "Id": "1", "SyncToken": "4", "domain": "QBO", "sparse": False, "CompanyName": "Tributary Trading Co",
            "LegalName": "Tributary Trading Company LLC", "Country": "US", "SupportedLanguages": "en",
            "FiscalYearStartMonth": "January", "Email": {"Address": "books@tributary-trading.com"},
            "WebAddr": {"URI": "https://www.tributary-trading.com"},
            "CompanyAddr": {"Id": "1", "Line1": "1 Harbor Way", "City": "San Francisco", "CountrySubDivisionCode": "CA",
                            "PostalCode": "94107", "Country": "US"},
            "CompanyStartDate": self.world.start.isoformat(),
            "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}],
            "MetaData": {"CreateTime": qbo_time(_at(self.world.start - dt.timedelta(days=30), 16))}}})

    async def query(self, request: web.Request) -> web.Response:
        if (resp := self._guard(request)):
            return resp
        text = request.query.get("query")
        if text is None and request.can_read_body:
            text = await request.text()   # POST /query takes the query as application/text
        try:
            return self._json({"QueryResponse": run_query(self.books, parse_query(text or ""))})
        except QboError as err:
            return self._fault(err)

    async def read_one(self, request: web.Request) -> web.Response:
        """GET /{entity}/{id}: one object, as `{"Invoice": {...}, "time": ...}`; an id the books do
        not hold is Intuit's 400 "Object Not Found" (code 610)."""
        if (resp := self._guard(request)):
            return resp
        entity = ENTITY_BY_LOWER.get(request.match_info["entity"].lower())
        entity_id = request.match_info["entity_id"]
        if entity is None or not entity_id.isdigit():
            return self._fault(QboError(400, "4000", "Unsupported Operation",
                                        f"Operation Could not find resource for relative : {request.path} of full path: "
                                        f"{request.url} is not supported."))
        found = run_query(self.books, parse_query(f"SELECT * FROM {entity} WHERE Id = '{entity_id}'")).get(entity)
        if not found:
            return self._fault(QboError(400, "610", "Object Not Found",
                                        "Object Not Found : Something you're trying to use has been made inactive. Check "
                                        "the fields with accounts, customers, items, vendors or employees."))
        return self._json({entity: found[0]})

    async def batch(self, request: web.Request) -> web.Response:
        if (resp := self._guard(request, is_batch=True)):
            return resp
        try:
            items = json.loads(await request.text())["BatchItemRequest"]
            assert isinstance(items, list)
        except Exception:  # noqa: BLE001
            return self._fault(QboError(400, "2020", "Required param missing, need to supply the required value for the API",
                                        "Required parameter BatchItemRequest is missing in the request"))
        if len(items) > MAX_BATCH_ITEMS:
            return self._fault(QboError(400, "4003", "Too many batch items",
                                        f"Batch requests allow at most {MAX_BATCH_ITEMS} items; got {len(items)}"))
        out = []
        for item in items:
            try:
                if "Query" not in item:
                    raise QboError(400, "4000", "Operation not supported", "Only Query batch items are supported by the sandbox")
                out.append({"bId": item.get("bId"), "QueryResponse": run_query(self.books, parse_query(item["Query"]))})
            except QboError as err:
                out.append({"bId": item.get("bId"), "Fault": err.body()})
        return self._json({"BatchItemResponse": out})

    async def cdc(self, request: web.Request) -> web.Response:
        if (resp := self._guard(request)):
            return resp
        since_text = request.query.get("changedSince", "")
        names = [n.strip() for n in request.query.get("entities", "").split(",") if n.strip()]
        try:
            since = parse_time(since_text)
        except ValueError:
            return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                        f"changedSince '{since_text}' is not a valid date-time"))
        if since < self.clock.now() - dt.timedelta(days=CDC_LOOKBACK_DAYS):
            return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                        f"Operation cdc with changedSince date {since_text} which is older than fixed days is not supported."))
        entities = []
        for n in names:
            e = ENTITY_BY_LOWER.get(n.lower())
            if not e:
                return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                            f"Entity {n} is not supported by change data capture"))
            entities.append(e)
        t0 = since.timestamp()
        budget = CDC_MAX_OBJECTS
        responses = []
        for e in entities:
            changed = [self.books.rows[e][rid] for t, _, rid in self.books.ordered(e) if t >= t0]
            changed += [stub for stub in self.books.deleted[e].values()
                        if parse_time(stub["MetaData"]["LastUpdatedTime"]).timestamp() >= t0]
            changed = changed[:budget]
            budget -= len(changed)
            if changed:
                responses.append({e: changed, "startPosition": 1, "maxResults": len(changed), "totalCount": len(changed)})
            else:
                responses.append({})
        return self._json({"CDCResponse": [{"QueryResponse": responses}]})

    async def report(self, request: web.Request) -> web.Response:
        if (resp := self._guard(request)):
            return resp
        name = request.match_info["report"]
        today = local_date(self.clock.now())
        try:
            start = dt.date.fromisoformat(request.query.get("start_date", today.replace(day=1).isoformat()))
            end = dt.date.fromisoformat(request.query.get("end_date", today.isoformat()))
        except ValueError:
            return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                        "start_date/end_date must be YYYY-MM-DD"))
        if end < start:
            return self._fault(QboError(400, "2010", "Request has invalid or unsupported property", "end_date is before start_date"))
        by = request.query.get("summarize_column_by", "Total")
        if by not in ("Total", "Days", "Month"):
            return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                        f"summarize_column_by={by} is not supported by the sandbox (Total, Days, Month)"))
        if name == "ProfitAndLoss":
            return self._json(profit_and_loss(self.books, start, end, by, self.clock.now()))
        if name == "BalanceSheet":
            return self._json(balance_sheet(self.books, start, end, self.clock.now()))
        return self._fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                    f"Report {name} is not supported by the sandbox (ProfitAndLoss, BalanceSheet)"))

    # -- control endpoints --
    async def ctl_throttle(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await request.json() if request.can_read_body else {}
            return web.json_response(self.throttle.configure(**{k: body[k] for k in
                                                                ("enabled", "per_second", "per_minute", "batch_per_minute") if k in body}))
        return web.json_response(self.throttle.settings())

    async def ctl_revoke(self, request: web.Request) -> web.Response:
        self.tokens.revoke()
        return web.json_response({"revoked": True})

    async def ctl_tokens(self, request: web.Request) -> web.Response:
        return web.json_response({"refresh_token": self.tokens.current_refresh(), "client_id": CLIENT_ID,
                                  "client_secret": CLIENT_SECRET, "realm_id": REALM_ID})

    async def ctl_age_tokens(self, request: web.Request) -> web.Response:
        """Make every token `days` older while the data clock stays put: days of token rotation
        pass in seconds, and the rest of the API (30-day CDC window, reports) sees no jump."""
        body = await request.json() if request.can_read_body else {}
        self.tokens.age(dt.timedelta(days=float(body.get("days", 1))))
        return web.json_response({"refresh_token": self.tokens.current_refresh()})

    async def ctl_access_ttl(self, request: web.Request) -> web.Response:
        """{"seconds": n}: access tokens issued from now on live n seconds (and say so in
        expires_in), so Intuit's one-hour expiry can fall in the middle of a short run."""
        body = await request.json() if request.can_read_body else {}
        self.tokens.access_ttl = int(body.get("seconds", ACCESS_TOKEN_TTL))
        return web.json_response({"access_ttl": self.tokens.access_ttl})

    async def ctl_truth(self, request: web.Request) -> web.Response:
        return web.json_response(self.truth())

    async def ctl_truth_rows(self, request: web.Request) -> web.Response:
        """Every live row's identity and version, per entity: what a complete, current copy holds."""
        rows = {e: [{"Id": r["Id"], "SyncToken": r["SyncToken"], "TotalAmt": r.get("TotalAmt"),
                     "LastUpdatedTime": r["MetaData"]["LastUpdatedTime"]} for r in self.books.rows[e].values()]
                for e in ENTITIES}
        return web.json_response({"rows": rows, "deleted": {e: sorted(self.books.deleted[e], key=int) for e in ENTITIES}})

    async def ctl_truth_profit_and_loss(self, request: web.Request) -> web.Response:
        """?start_date&end_date (company dates, default: the last 30 days): the daily P&L exactly as
        GET /reports/ProfitAndLoss?summarize_column_by=Days serves it, one entry per day:
        {"YYYY-MM-DD": {row label: amount text}} with the blank cells (no activity) left out."""
        today = local_date(self.clock.now())
        try:
            start = dt.date.fromisoformat(request.query.get("start_date", (today - dt.timedelta(days=30)).isoformat()))
            end = dt.date.fromisoformat(request.query.get("end_date", today.isoformat()))
        except ValueError:
            return web.json_response({"error": "start_date/end_date must be YYYY-MM-DD"}, status=400)
        report = profit_and_loss(self.books, start, end, "Days", self.clock.now())
        days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        out: dict[str, dict[str, str]] = {d: {} for d in days}

        def walk(rows: list) -> None:
            for row in rows:
                for part in ("Header", "Summary"):
                    if part in row:
                        take(row[part]["ColData"])
                if "ColData" in row:
                    take(row["ColData"])
                walk(row.get("Rows", {}).get("Row", []))

        def take(cells: list) -> None:
            label = cells[0]["value"]
            for day, cell in zip(days, cells[1:]):   # the last cell is the period's total
                if cell["value"] != "":
                    out[day][label] = cell["value"]

        walk(report["Rows"]["Row"])
        return web.json_response(out)

    async def ctl_edit(self, request: web.Request) -> web.Response:
        """{"entity": "Customer", "rows": [{property: value, ...}, ...], "ids"?: [...]}: the i-th
        change goes to the i-th row (by Id, or the entity's first rows in Id order), which is then
        saved the way a user's edit is (SyncToken + 1, LastUpdatedTime now). A null value removes
        the property, as QBO leaves empty properties out of its answers. For what a user can change
        in QuickBooks' UI between two syncs: texts (unicode, long), custom fields (a new one, or one
        whose definition was retyped), a property emptied."""
        body = await request.json() if request.can_read_body else {}
        try:
            return web.json_response({"edited": self.edit(str(body.get("entity", "")), list(body.get("rows", [])),
                                                          body.get("ids"))})
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)

    def edit(self, entity: str, changes: list[dict], ids: list | None = None) -> list[str]:
        if entity not in ENTITIES:
            raise ValueError(f"entity must be one of {', '.join(ENTITIES)}, not {entity!r}")
        rows = self.books.rows[entity]
        targets = [str(i) for i in ids] if ids else sorted(rows, key=int)[:len(changes)]
        if len(targets) < len(changes) or any(i not in rows for i in targets):
            raise ValueError(f"{entity} has no rows {targets} for {len(changes)} changes")
        protected = {"Id", "SyncToken", "MetaData", "domain", "sparse"}
        if any(not isinstance(change, dict) or protected & change.keys() for change in changes):
            raise ValueError(f"each change must be an object of properties other than {sorted(protected)}")
        now = self.clock.now()
        for rec_id, change in zip(targets, changes):
            rec = rows[rec_id]
            for key, value in change.items():
                if value is None:
                    rec.pop(key, None)
                else:
                    rec[key] = value
            self.books.touch(entity, rec, now)
        return targets[:len(changes)]

    def truth(self) -> dict:
        b = self.books
        counts = {e: len(b.rows[e]) for e in ENTITIES}
        totals = {e: cents(sum(to_cents(r["TotalAmt"]) for r in b.rows[e].values()))
                  for e in ENTITIES if any("TotalAmt" in r for r in b.rows[e].values())}
        return {"counts": counts, "active_counts": {e: sum(1 for r in b.rows[e].values() if r.get("Active", True)) for e in ENTITIES},
                "deleted": {e: sorted(b.deleted[e], key=int) for e in ENTITIES if b.deleted[e]},
                "totals": totals, "invoices_total": totals.get("Invoice", 0),
                "open_ar": cents(sum(to_cents(r["Balance"]) for r in b.rows["Invoice"].values())),
                "pl_by_month": monthly_pl_totals(b)}

    async def ctl_mutate(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        try:
            changes = self.mutate(int(body.get("seed", 0)), int(body.get("new", 0)),
                                  int(body.get("updated", 0)), int(body.get("deleted", 0)))
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"changes": changes})

    def mutate(self, seed: int, new: int, updated: int, deleted: int) -> list[dict]:
        """Changes between runs, on RECENT documents only (last 30 days) so a re-pulled
        30-day P&L window sees them. Customers are never deleted (QBO only deactivates them)."""
        self.mutations += 1
        r = random.Random(f"mutate:{seed}:{self.mutations}")
        b = self.books
        now = self.clock.now()
        today = local_date(now)
        cutoff = (today - dt.timedelta(days=30)).isoformat()
        changes: list[dict] = []
        customers = sorted((c for c in b.rows["Customer"].values() if c["Active"]), key=lambda c: int(c["Id"]))
        items = sorted((i for i in b.rows["Item"].values() if i["Active"] and i["Type"] in ("Service", "Inventory")
                        and to_cents(i["UnitPrice"]) > 0), key=lambda i: int(i["Id"]))
        for k in range(new):
            if k % 3 == 2:     # every third new invoice goes to a brand-new customer
                cid = b.next_id("Customer")
                name = f"New Customer {cid} LLC"
                cust = b.put("Customer", {"Id": cid, "DisplayName": name, "FullyQualifiedName": name, "CompanyName": name,
                                          "PrintOnCheckName": name, "Active": True, "Job": False, "BillWithParent": False,
                                          "Taxable": False, "Balance": 0, "BalanceWithJobs": 0,
                                          "CurrencyRef": ref("USD", "United States Dollar"), "CustomerTypeRef": {"value": "1"},
                                          "PrimaryEmailAddr": {"Address": f"billing@newcustomer{cid}.com"},
                                          "WebAddr": {"URI": f"https://www.newcustomer{cid}.com"}}, now)
                changes.append({"entity": "Customer", "Id": cid, "kind": "new"})
            else:
                cust = customers[r.randrange(len(customers))]
            iid = b.next_id("Invoice")
            picks = [(it["Id"], r.randint(1, 5), to_cents(it["UnitPrice"])) for it in r.sample(items, 2)]
            lines, sub = _sales_lines(b, picks)
            b.put("Invoice", {"Id": iid, "DocNumber": f"INV-{int(iid) + 1000}", "TxnDate": today.isoformat(),
                              "DueDate": (today + dt.timedelta(days=30)).isoformat(),
                              "CustomerRef": ref(cust["Id"], cust["DisplayName"]), "SalesTermRef": ref("2"), "Line": lines,
                              "TxnTaxDetail": {"TotalTax": 0}, "TotalAmt": cents(sub), "Balance": cents(sub),
                              "HomeBalance": cents(sub), "CurrencyRef": ref("USD", "United States Dollar"), "LinkedTxn": [],
                              "EmailStatus": "NotSet", "PrintStatus": "NotSet", "GlobalTaxCalculation": "TaxExcluded"}, now)
            changes.append({"entity": "Invoice", "Id": iid, "kind": "new"})
        recent = sorted((i for i in b.rows["Invoice"].values() if i["TxnDate"] >= cutoff), key=lambda i: int(i["Id"]))
        for inv in r.sample(recent, min(updated, len(recent))):
            # Add one line (amounts only grow, so payments never exceed the total).
            it = items[r.randrange(len(items))]
            spec = [(ln["SalesItemLineDetail"]["ItemRef"]["value"], ln["SalesItemLineDetail"]["Qty"],
                     to_cents(ln["SalesItemLineDetail"]["UnitPrice"]))
                    for ln in inv["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
            spec.append((it["Id"], r.randint(1, 3), to_cents(it["UnitPrice"])))
            lines, sub = _sales_lines(b, spec)
            tax_detail = inv["TxnTaxDetail"]
            tax = to_cents(tax_detail.get("TotalTax", 0))
            if tax:   # keep the invoice's tax rate on its taxable (inventory) lines
                taxable = sum(q * u for i_, q, u in spec if b.rows["Item"][i_]["Type"] == "Inventory")
                tax = (taxable * 825 + 5000) // 10000
                tax_detail = _tax_detail(tax, "2", "1", 8.25, taxable)
            paid = to_cents(inv["TotalAmt"]) - to_cents(inv["Balance"])
            inv.update(Line=lines, TxnTaxDetail=tax_detail, TotalAmt=cents(sub + tax),
                       Balance=cents(sub + tax - paid), HomeBalance=cents(sub + tax - paid))
            b.touch("Invoice", inv, now)
            changes.append({"entity": "Invoice", "Id": inv["Id"], "kind": "updated"})
        for cust in r.sample(customers, min((updated + 1) // 2, len(customers))):
            cust["PrimaryPhone"] = {"FreeFormNumber": f"(415) 555-{r.randrange(10000):04d}"}
            b.touch("Customer", cust, now)
            changes.append({"entity": "Customer", "Id": cust["Id"], "kind": "updated"})
        touched = {c["Id"] for c in changes if c["entity"] == "Invoice"}
        deletable = [i for i in recent if not i["LinkedTxn"] and i["Id"] not in touched and i["Id"] in b.rows["Invoice"]]
        for inv in r.sample(deletable, min(deleted, len(deletable))):
            b.delete("Invoice", inv["Id"], now)
            changes.append({"entity": "Invoice", "Id": inv["Id"], "kind": "deleted"})
        recompute_balances(b)
        return changes
