"""The company's books as QuickBooks Online holds them: a projection of the shared world (world.py).

One QuickBooks row per world fact, ids as strings, money as JSON numbers (cents internally),
times in the company's zone (fixed -08:00; real QBO follows US Pacific DST, which nothing here
depends on). Every posting transaction goes through one double-entry `postings()` function, so
the reports (api.py) reconcile with the transactions to the cent and the balance sheet balances,
also after mutations. No HTTP here.
"""
from __future__ import annotations

import collections
import datetime as dt
import math
import random

from ...world import EXPENSE_CATEGORIES, World, cents

COMPANY_TZ = dt.timezone(dt.timedelta(hours=-8))

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
BUNDLE_EVERY = 9   # one invoice in nine sells its first two lines as a bundle (GroupLineDetail)
ASSET_TYPES = ("Bank", "Accounts Receivable", "Other Current Asset", "Fixed Asset")
LIABILITY_TYPES = ("Accounts Payable", "Credit Card", "Other Current Liability")
RESULT_TYPES = ("Income", "Cost of Goods Sold", "Expense", "Other Income", "Other Expense")   # the P&L's accounts
POSTING_ENTITIES = ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Payment", "Bill",
                    "BillPayment", "Purchase", "VendorCredit", "JournalEntry", "Deposit", "Transfer")
# On the cash basis these count as payments settle them (Books.cash_ledger), the others on their date.
PAID_LATER = ("Invoice", "CreditMemo", "Bill", "VendorCredit")


# ---- formatting helpers ------------------------------------------------------------------------
def qbo_time(moment: dt.datetime) -> str:
    return moment.astimezone(COMPANY_TZ).replace(microsecond=0).isoformat()


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(COMPANY_TZ).date()


def to_cents(x) -> int:
    return int(round(float(x) * 100))


def parse_time(text: str) -> dt.datetime:
    """QBO accepts 'Z', numeric offsets, and bare dates (company midnight)."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=COMPANY_TZ)
    return value


def ref(value, name=None) -> dict:
    return {"value": str(value), "name": name} if name is not None else {"value": str(value)}

# ---- the books ---------------------------------------------------------------------------------
class Books:
    """All QBO rows, the deletion log, and the ordered index queries page through."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict]] = {e: {} for e in ENTITIES}
        self.lut: dict[str, dict[str, float]] = {e: {} for e in ENTITIES}     # Id → LastUpdatedTime epoch
        self.deleted: dict[str, dict[str, dict]] = {e: {} for e in ENTITIES}  # Id → deletion stub
        self._order: dict[str, list] = {}
        self._ledger: dict | None = None
        self._cash_ledger: dict | None = None
        self.account_id: dict[str, str] = {}
        self.account_name: dict[str, str] = {}
        self.shipping_item = ""
        self.bundle_item = ""
        # With multicurrency on: each foreign currency's own A/R and A/P account, {"EUR": {"ar": Id, "ap": Id}}
        self.currency_accounts: dict[str, dict[str, str]] = {}
        # The liability account of each tax rate whose agency keeps its own ("<agency> Payable") and
        # when it was opened, {rate Id: (account Id, its CreateTime)}
        self.tax_accounts: dict[str, tuple[str, dt.datetime]] = {}

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
        self._ledger = self._cash_ledger = None

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
            for entity in POSTING_ENTITIES:
                for rec in self.rows[entity].values():
                    day = led.setdefault(rec["TxnDate"], {})
                    for acct, debit in postings(self, entity, rec):
                        day[acct] = day.get(acct, 0) + debit
            self._ledger = led
        return self._ledger

    def cash_ledger(self) -> dict:
        """{'YYYY-MM-DD': {account Id: debit cents}} of the income and expense accounts on the cash
        basis, what QuickBooks' ProfitAndLoss report shows with accounting_method=Cash: a sales or
        purchase form on credit (invoice, credit memo, bill, vendor credit) counts as the money
        settles it, each of its income and expense postings (cost of goods sold included) in the
        share its payment lines applied of its total, tax included in that total, on the payment's
        date (the form's, if the payment came first); every other transaction on its own date.
        Each share is rounded to the cent on the amount paid so far, so a form paid in full
        counts exactly its amounts."""
        if self._cash_ledger is None:
            applied: dict[tuple[str, str], list] = {}   # (form entity, Id) -> [(day, payment Id, cents)]
            for payment_entity, forms in (("Payment", ("Invoice", "CreditMemo")), ("BillPayment", ("Bill", "VendorCredit"))):
                for rec in self.rows[payment_entity].values():
                    for line in rec["Line"]:
                        for link in line.get("LinkedTxn", []):
                            if link["TxnType"] in forms:
                                applied.setdefault((link["TxnType"], link["TxnId"]), []).append(
                                    (rec["TxnDate"], int(rec["Id"]), to_cents(line["Amount"])))
            led: dict[str, dict[str, int]] = {}

            def post(day: str, acct: str, debit: int) -> None:
                accounts = led.setdefault(day, {})
                accounts[acct] = accounts.get(acct, 0) + debit

            for entity in POSTING_ENTITIES:
                for rec in self.rows[entity].values():
                    results = [(a, d) for a, d in postings(self, entity, rec) if self.account_type(a) in RESULT_TYPES]
                    if entity not in PAID_LATER:
                        for acct, debit in results:
                            post(rec["TxnDate"], acct, debit)
                        continue
                    total, paid = to_cents(rec["TotalAmt"]), 0
                    for day, _, amount in sorted(applied.get((entity, rec["Id"]), [])):
                        before, paid = paid, paid + amount
                        for acct, debit in results:
                            post(max(day, rec["TxnDate"]), acct, share(debit, paid, total) - share(debit, before, total))
            self._cash_ledger = led
        return self._cash_ledger

    def account_type(self, acct_id: str) -> str:
        return self.rows["Account"][acct_id]["AccountType"]


def share(cents_: int, part: int, whole: int) -> int:
    """cents_ * part / whole, rounded to the cent, halves away from zero (as PostgreSQL's round)."""
    if not whole:
        return 0
    magnitude = (2 * abs(cents_ * part) + abs(whole)) // (2 * abs(whole))
    return magnitude if (cents_ * part) * whole >= 0 else -magnitude


def exchange_rate_e4(rec: dict) -> int | None:
    """A foreign-currency transaction's ExchangeRate (home units per unit of its currency) in
    ten-thousandths, as the sandbox writes it (4 decimals); None for a home-currency one."""
    rate = rec.get("ExchangeRate")
    return None if rate is None else round(rate * 10_000)


def home(cents_: int, rec: dict) -> int:
    """An amount of `rec`'s currency in the home currency at `rec`'s rate, to the cent (halves away
    from zero, as PostgreSQL's round)."""
    rate = exchange_rate_e4(rec)
    return cents_ if rate is None else share(cents_, rate, 10_000)


def postings(books: Books, entity: str, rec: dict) -> list[tuple[str, int]]:
    """Double-entry effect of one transaction: [(account Id, debit cents; credit < 0)], in the
    home currency, by the ledger's rules (transform/macros/quickbooks/). A foreign-currency
    transaction's postings are each converted at its rate; a form's counter posting (A/R, A/P,
    the account paid from or into) takes what balances them. An inventory sale's cost is in the
    home currency already. A payment settles each form it applies to at that form's rate and takes
    the money at its own: the difference is the realized exchange gain or loss."""
    A = books.account_id
    currency = books.currency_accounts.get(rec.get("CurrencyRef", {}).get("value"), {})
    if entity == "Payment":
        return settlement_postings(books, rec, rec["DepositToAccountRef"]["value"],
                                   rec.get("ARAccountRef", {}).get("value") or currency.get("ar", A["ar"]),
                                   {"Invoice": 1, "CreditMemo": -1}, 1)
    if entity == "BillPayment":
        return settlement_postings(books, rec, rec["CheckPayment"]["BankAccountRef"]["value"],
                                   rec.get("APAccountRef", {}).get("value") or currency.get("ap", A["ap"]),
                                   {"Bill": 1, "VendorCredit": -1}, -1)
    own = own_currency_postings(books, entity, rec)
    cost = inventory_cost_postings(books, entity, rec)
    if exchange_rate_e4(rec) is None or not own:
        return own + cost
    if entity in ("JournalEntry", "Transfer"):    # no counter posting: each line converted alone
        return [(acct, home(amount, rec)) for acct, amount in own] + cost
    converted = [(acct, home(amount, rec)) for acct, amount in own[:-1]]
    return converted + cost + [(own[-1][0], -sum(amount for _, amount in converted))]


def settlement_postings(books: Books, rec: dict, money_account: str, open_account: str,
                        form_signs: dict[str, int], sign: int) -> list[tuple[str, int]]:
    """A customer payment (sign 1: money in, off A/R) or a bill payment (-1: money out, off A/P):
    the money at the payment's rate; each form it applies to off the open account at the form's
    own rate (a credit memo or vendor credit it uses, the other way); what it leaves unapplied at
    the payment's rate; the difference to the company's exchange gain or loss account."""
    total = to_cents(rec.get("TotalAmt", 0))
    money = home(total, rec)
    settled = applied = 0
    for line in rec["Line"]:
        for link in line.get("LinkedTxn", []):
            form = books.rows.get(link["TxnType"], {}).get(link["TxnId"])
            if link["TxnType"] in form_signs and form is not None and exchange_rate_e4(rec) is not None:
                amount = form_signs[link["TxnType"]] * to_cents(line["Amount"])
                settled += home(amount, form if exchange_rate_e4(form) is not None else rec)
                applied += amount
    settled += home(total - applied, rec)
    out = [(money_account, sign * money), (open_account, -sign * settled)]
    if money != settled:
        out.append((books.account_id["exchange_gain_or_loss"], sign * (settled - money)))
    return out


def inventory_cost_postings(books: Books, entity: str, rec: dict) -> list[tuple[str, int]]:
    """A sales form's inventory items' cost, from the inventory asset to cost of goods sold, in the
    home currency (accrual COGS at the item's purchase cost)."""
    if entity not in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"):
        return []
    sign = 1 if entity in ("Invoice", "SalesReceipt") else -1
    out = []
    for line in item_lines(rec["Line"]):
        d = line["SalesItemLineDetail"]
        item = books.rows["Item"][d["ItemRef"]["value"]]
        if item["Type"] == "Inventory":
            cost = d["Qty"] * to_cents(item["PurchaseCost"])
            out += [(item["ExpenseAccountRef"]["value"], sign * cost), (item["AssetAccountRef"]["value"], -sign * cost)]
    return out


def own_currency_postings(books: Books, entity: str, rec: dict) -> list[tuple[str, int]]:
    """A transaction's postings in its own currency (its inventory cost aside), its counter posting last."""
    A = books.account_id
    out: list[tuple[str, int]] = []
    total = to_cents(rec.get("TotalAmt", 0))
    currency = books.currency_accounts.get(rec.get("CurrencyRef", {}).get("value"), {})
    if entity in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt"):
        sign = 1 if entity in ("Invoice", "SalesReceipt") else -1
        items = books.rows["Item"]
        for line in item_lines(rec["Line"]):
            d = line["SalesItemLineDetail"]
            item = items[d["ItemRef"]["value"]]
            out.append((item["IncomeAccountRef"]["value"], -sign * to_cents(line["Amount"])))
        out += [(account, -sign * tax) for account, tax in tax_postings(books, rec)]
        counter = currency.get("ar", A["ar"]) if entity in ("Invoice", "CreditMemo") else rec["DepositToAccountRef"]["value"]
        out.append((counter, sign * total))
    elif entity in ("Bill", "Purchase", "VendorCredit"):
        sign = -1 if entity == "VendorCredit" else 1
        for line in rec["Line"]:
            out.append((line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"], sign * to_cents(line["Amount"])))
        counter = rec["AccountRef"]["value"] if entity == "Purchase" else \
            rec.get("APAccountRef", {}).get("value") or currency.get("ap", A["ap"])
        out.append((counter, -sign * total))
    elif entity == "JournalEntry":
        for line in rec["Line"]:
            d = line["JournalEntryLineDetail"]
            amt = to_cents(line["Amount"])
            out.append((d["AccountRef"]["value"], amt if d["PostingType"] == "Debit" else -amt))
    elif entity == "Deposit":
        for line in rec["Line"]:
            out.append((line["DepositLineDetail"]["AccountRef"]["value"], -to_cents(line["Amount"])))
        out.append((rec["DepositToAccountRef"]["value"], total))
    elif entity == "Transfer":
        amt = to_cents(rec["Amount"])
        out += [(rec["FromAccountRef"]["value"], -amt), (rec["ToAccountRef"]["value"], amt)]
    return out


def tax_postings(books: Books, rec: dict) -> list[tuple[str, int]]:
    """A form's tax by agency, as the ledger posts it (quickbooks_tax_postings): each tax line at a
    rate whose agency keeps its own liability account to that account, if the form was entered
    once the account was open; the rest of TotalTax to the company's Sales Tax Payable."""
    detail = rec.get("TxnTaxDetail", {})
    entered = parse_time(rec["MetaData"]["CreateTime"])
    owed = []
    for line in detail.get("TaxLine", []):
        account, opened = books.tax_accounts.get(line["TaxLineDetail"]["TaxRateRef"]["value"], (None, None))
        if account and entered >= opened:
            owed.append((account, to_cents(line["Amount"])))
    rest = to_cents(detail.get("TotalTax", 0)) - sum(tax for _, tax in owed)
    return [(account, tax) for account, tax in owed if tax] + ([(books.account_id["sales_tax"], rest)] if rest else [])


def item_lines(lines: list) -> list[dict]:
    """A sales form's item lines (SalesItemLineDetail), each bundle's (GroupLineDetail) components
    in its place: what posts to the books."""
    out = []
    for line in lines:
        if line["DetailType"] == "GroupLineDetail":
            out += line["GroupLineDetail"]["Line"]
        elif line["DetailType"] == "SalesItemLineDetail":
            out.append(line)
    return out


# ---- projection of the world into QuickBooks rows ----------------------------------------------
def sales_lines(books: Books, lines: list[tuple[str, int, int]], shipping: int = 0,
                bundled: int = 0) -> tuple[list, int]:
    """[(item Id, qty, unit cents)] → QBO Line array (+ SubTotalLineDetail) and subtotal cents.
    The first `bundled` lines are sold as one bundle: a GroupLineDetail line holding them."""
    items = books.rows["Item"]
    out, sub = [], 0
    for n, (item_id, qty, unit) in enumerate(lines, start=1):
        amt = round(qty * unit)
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
    if bundled:
        parts = out[:bundled]
        bundle = items[books.bundle_item]
        # Intuit documents no Amount on a group line (its components carry theirs): none here either
        out[:bundled] = [{"Id": str(len(out) + 1), "LineNum": 1, "Description": bundle["Name"],
                          "DetailType": "GroupLineDetail",
                          "GroupLineDetail": {"GroupItemRef": ref(bundle["Id"], bundle["Name"]), "Quantity": 1,
                                              "Line": parts}}]
    out.append({"Amount": cents(sub), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    return out, sub


def bundled_lines(lines: list) -> int:
    """How many item lines the sales form's leading bundle holds (0: it starts with no bundle)."""
    first = lines[0] if lines else {}
    return len(first["GroupLineDetail"]["Line"]) if first.get("DetailType") == "GroupLineDetail" else 0


def txn_tax_detail(tax: int, code_id: str, rate_id: str, pct: float, taxable: int) -> dict:
    detail = {"TotalTax": cents(tax)}
    if tax:
        detail["TxnTaxCodeRef"] = ref(code_id)
        detail["TaxLine"] = [{"Amount": cents(tax), "DetailType": "TaxLineDetail",
                              "TaxLineDetail": {"TaxRateRef": ref(rate_id), "PercentBased": True,
                                                "TaxPercent": pct, "NetAmountTaxable": cents(taxable)}}]
    return detail


def utc_at(day: dt.date, hour: int = 17) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc)


def project(w: World, multicurrency: bool = True) -> Books:
    """Build every QBO row from the world. Deterministic: only world data and fixed offsets.
    `multicurrency`: the company has it on and deals in euros too (project_foreign_currency)."""
    b = Books()
    r = random.Random(f"{w.seed}:quickbooks")
    origin = utc_at(w.start - dt.timedelta(days=30), 16)           # company set up before history
    last_moment = utc_at(w.today - dt.timedelta(days=1), 23)       # nothing is stamped after yesterday

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
    # A bundle (QuickBooks' Group item): sold as one line whose components post as their own items.
    b.bundle_item = str(n_items + 4)
    services = [p for p in w.products if p.kind == "Service"][:2]
    b.put("Item", {"Id": b.bundle_item, "Name": "Project Bundle", "FullyQualifiedName": "Project Bundle", "Type": "Group",
                   "Active": True, "Description": "Hours with an onboarding, invoiced together",
                   "ItemGroupDetail": {"ItemGroupLine": [{"ItemRef": ref(str(p.idx + 1), p.name), "Qty": 1}
                                                         for p in services]}}, origin)

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
        if qc.phone:
            rec["PrimaryPhone"] = {"FreeFormNumber": qc.phone}
        b.put("Customer", rec, qc.created)

    item_id = {p.idx: str(p.idx + 1) for p in w.products}

    # Invoices and their payments.
    pay_methods = ("2", "3", "4", "6")
    for inv in w.invoices:
        iid = str(inv.idx + 1)
        cust = b.rows["Customer"][str(inv.billed_as + 1)]
        # every BUNDLE_EVERY-th invoice sells its first two lines as a bundle
        bundled = 2 if inv.idx % BUNDLE_EVERY == BUNDLE_EVERY // 2 and len(inv.lines) >= 2 else 0
        lines, sub = sales_lines(b, [(item_id[p], q, u) for p, q, u in inv.lines], bundled=bundled)
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
            pmoment = clamp(utc_at(pday, 18 + k))
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
               "Line": lines, "TxnTaxDetail": txn_tax_detail(tax, "2", "1", 8.25, taxable),
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
        lines, sub = sales_lines(b, [(item_id[p], qty[p], price[p]) for p in sorted(qty)], ship)
        total = sub + tax
        b.put("SalesReceipt", {"Id": str(k), "DocNumber": f"SHOP-{day:%Y%m%d}", "TxnDate": day.isoformat(),
                               "Line": lines, "TxnTaxDetail": txn_tax_detail(tax, "3", "2", 7.25, sub - ship),
                               "TotalAmt": cents(total), "Balance": 0, "DepositToAccountRef": acct("checking"),
                               "PaymentMethodRef": ref("3", "Visa"), "PaymentRefNum": f"payout-{day:%Y%m%d}",
                               "CurrencyRef": ref("USD", "United States Dollar"), "ClassRef": ref("1", "Retail"),
                               "DepartmentRef": ref("2", "Online Store"), "PrivateNote": f"Shopify payout, {len(orders)} orders",
                               "GlobalTaxCalculation": "TaxExcluded", "PrintStatus": "NotSet", "EmailStatus": "NotSet"},
              clamp(utc_at(day, 23)))
    k = 0
    for o in w.orders:
        if not o.refunded:
            continue
        k += 1
        lines, sub = sales_lines(b, [(item_id[p], q, u) for p, q, u in o.lines], o.shipping)
        total = sub + o.tax
        day = local_date(o.refunded_at)
        b.put("RefundReceipt", {"Id": str(k), "DocNumber": f"REF-{o.idx + 1001}", "TxnDate": day.isoformat(),
                                "Line": lines, "TxnTaxDetail": txn_tax_detail(o.tax, "3", "2", 7.25, sub - o.shipping),
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
        created = clamp(utc_at(e.date, 19))
        if e.paid_by == "bill":
            nb += 1
            bill_id = str(nb)
            linked = []
            updated = created
            if e.paid_on:
                nbp += 1
                pm = clamp(utc_at(e.paid_on, 20))
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
        day = min(month_end(y, m), w.today - dt.timedelta(days=1))
        fee = fees_by_month[month]
        b.put("Purchase", {"Id": str(npur), "TxnDate": day.isoformat(), "PaymentType": "Cash", "AccountRef": acct("checking"),
                           "Credit": False, "EntityRef": {"value": svend["Id"], "name": svend["DisplayName"], "type": "Vendor"},
                           "Line": [{"Id": "1", "LineNum": 1, "Description": f"Shopify payment fees {month}", "Amount": cents(fee),
                                     "DetailType": "AccountBasedExpenseLineDetail",
                                     "AccountBasedExpenseLineDetail": {"AccountRef": acct("fees"), "BillableStatus": "NotBillable",
                                                                       "TaxCodeRef": ref("NON")}}],
                           "TotalAmt": cents(fee), "CurrencyRef": ref("USD", "United States Dollar"), "PrintStatus": "NotSet"},
              clamp(utc_at(day, 22)))

    # Month-end journal entries (payroll, depreciation), transfers, owner deposits.
    months = _months(w.start, w.today - dt.timedelta(days=1))
    nje = ntr = 0
    payroll = int(w.n(1_800_000, 1) * 1)   # cents per month, grows with scale
    for y, m in months:
        day = min(month_end(y, m), w.today - dt.timedelta(days=1))
        moment = clamp(utc_at(day, 23))
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
              clamp(utc_at(day, 18)))

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
        lines, sub = sales_lines(b, [(item_id[p.idx], 1, p.price // 4)])
        b.put("CreditMemo", {"Id": str(k), "DocNumber": f"CM-{k:04d}", "TxnDate": day.isoformat(),
                             "CustomerRef": ref(cid, cust["DisplayName"]), "Line": lines,
                             "TxnTaxDetail": {"TotalTax": 0}, "TotalAmt": cents(sub), "Balance": cents(sub),
                             "RemainingCredit": 0, "CurrencyRef": ref("USD", "United States Dollar"),
                             "PrintStatus": "NotSet", "EmailStatus": "NotSet"}, clamp(utc_at(day, 19)))
    for k, deal in enumerate([d for d in w.deals if d.stage in ("proposal", "won", "lost")][: w.n(120)], 1):
        co = w.companies[deal.company]
        cid = next((str(q.idx + 1) for q in w.qbo_customers if q.uid == co.uid), cust_ids[k % len(cust_ids)]) \
            if w.scale <= 5 else cust_ids[k % len(cust_ids)]
        cust = b.rows["Customer"][cid]
        p = services[k % len(services)]
        qty = max(1, deal.amount // max(1, p.price))
        qty = min(qty, 50)
        lines, sub = sales_lines(b, [(item_id[p.idx], qty, p.price)])
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
                                "EmailStatus": "NotSet"}, clamp(utc_at(day, 17)))
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
              clamp(utc_at(day, 16)))
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
                               "Description": "Consulting"}, clamp(utc_at(day, 20)))
    expense_accounts = [a for a in b.rows["Account"].values() if a["AccountType"] in ("Expense", "Income") and a["Active"]]
    for k, year in enumerate(sorted({w.start.year, (w.today - dt.timedelta(days=1)).year}), 1):
        detail = []
        for a in expense_accounts:
            for month in range(1, 13):
                detail.append({"BudgetDate": f"{year}-{month:02d}-01", "Amount": cents(r.randrange(50_000, 900_000, 100)),
                               "AccountRef": ref(a["Id"], a["Name"])})
        b.put("Budget", {"Id": str(k), "Name": f"FY{year} Operating Budget", "StartDate": f"{year}-01-01",
                         "EndDate": f"{year}-12-31", "BudgetType": "ProfitAndLoss", "BudgetEntryType": "Monthly",
                         "Active": True, "BudgetDetail": detail}, clamp(utc_at(dt.date(year, 1, 2) if dt.date(year, 1, 2) > w.start else w.start, 16)))

    if multicurrency:
        project_foreign_currency(b, w, origin, clamp)
    project_second_tax_agency(b, clamp(utc_at(w.start + (w.today - w.start) / 2, 9)))
    recompute_balances(b)
    return b


def project_second_tax_agency(b: Books, opened: dt.datetime) -> None:
    """The online shop's sales tax (the rate "Online Sales Tax", on every Shopify sales receipt
    and refund) is owed to a second agency, set up halfway through the books' history (`opened`).
    QuickBooks then opened that agency's own liability account, "<agency> Payable", and posts the
    tax at its rates there from forms entered since; the tax of forms entered before, and the
    first agency's, stays in Sales Tax Payable (a company that kept sales tax before QuickBooks
    opened an account per agency). Added after the rest, so every other row stays as it was."""
    agency = b.next_id("TaxAgency")
    name = "California Department of Tax and Fee Administration"
    b.put("TaxAgency", {"Id": agency, "DisplayName": name, "TaxTrackedOnSales": True,
                        "TaxTrackedOnPurchases": False}, opened)
    aid = b.next_id("Account")
    b.account_id["online_sales_tax"], b.account_name[aid] = aid, f"{name} Payable"
    b.put("Account", {"Id": aid, "Name": f"{name} Payable", "FullyQualifiedName": f"{name} Payable",
                      "AccountType": "Other Current Liability", "AccountSubType": "SalesTaxPayable",
                      "Classification": "Liability", "SubAccount": False, "Active": True, "CurrentBalance": 0,
                      "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": ref(*HOME_CURRENCY)}, opened)
    online_rate = next(rate for rate in b.rows["TaxRate"].values() if rate["Name"] == "Online Sales Tax")
    online_rate["AgencyRef"] = ref(agency)
    b.touch("TaxRate", online_rate, opened)
    b.tax_accounts[online_rate["Id"]] = (aid, opened)


HOME_CURRENCY = ("USD", "United States Dollar")
EURO = ("EUR", "Euro")


def eur_rate(day: dt.date) -> float:
    """US dollars per euro on `day` in the sandbox's world: 1.03 to 1.13, moving from day to day,
    to four decimals (as QuickBooks' ExchangeRate)."""
    return round(1.08 + 0.05 * math.sin(day.toordinal() / 11), 4)


def project_foreign_currency(b: Books, w: World, origin: dt.datetime, clamp) -> None:
    """A company with multicurrency on that also trades in euros: the accounts QuickBooks adds for
    a currency (its own A/R and A/P) and for multicurrency (Exchange Gain or Loss); two customers
    and a vendor who deal in euros; each month an invoice to one of the customers, paid about
    three weeks later at that day's rate (every fifth in two payments), and a bill from the
    vendor, paid five weeks later (the last month's still open). Rows are added after the home-currency ones, from their own
    random stream, so the rest of the books is the same with or without them."""
    r = random.Random(f"{w.seed}:quickbooks:euro")
    for key, name, atype, sub, cls, currency in (
            ("ar_eur", "Accounts Receivable (A/R) - EUR", "Accounts Receivable", "AccountsReceivable", "Asset", EURO),
            ("ap_eur", "Accounts Payable (A/P) - EUR", "Accounts Payable", "AccountsPayable", "Liability", EURO),
            ("exchange_gain_or_loss", "Exchange Gain or Loss", "Other Expense", "ExchangeGainOrLoss", "Expense",
             HOME_CURRENCY)):
        aid = b.next_id("Account")
        b.account_id[key], b.account_name[aid] = aid, name
        b.put("Account", {"Id": aid, "Name": name, "FullyQualifiedName": name, "AccountType": atype,
                          "AccountSubType": sub, "Classification": cls, "SubAccount": False, "Active": True,
                          "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": ref(*currency)}, origin)
    b.currency_accounts["EUR"] = {"ar": b.account_id["ar_eur"], "ap": b.account_id["ap_eur"]}
    acct = lambda key: ref(b.account_id[key], b.account_name[b.account_id[key]])  # noqa: E731
    customers = []
    for name, street, city, postal, country in (("Atelier Lumière SARL", "12 Rue Mercière", "Lyon", "69002", "FR"),
                                                ("Grachten Studio BV", "88 Keizersgracht", "Amsterdam", "1015 CS", "NL")):
        cid = b.next_id("Customer")
        customers.append(b.put("Customer", {
            "Id": cid, "DisplayName": name, "FullyQualifiedName": name, "CompanyName": name, "PrintOnCheckName": name,
            "Active": True, "Job": False, "BillWithParent": False, "Taxable": False, "Balance": 0, "BalanceWithJobs": 0,
            "CurrencyRef": ref(*EURO), "CustomerTypeRef": {"value": "1"}, "PreferredDeliveryMethod": "Email",
            "SalesTermRef": ref("2"), "PrimaryEmailAddr": {"Address": f"accounts@{name.split()[0].lower()}.eu"},
            "BillAddr": {"Id": str(5000 + int(cid)), "Line1": street, "City": city, "PostalCode": postal,
                         "Country": country}}, origin))
    vid = b.next_id("Vendor")
    vendor = b.put("Vendor", {"Id": vid, "DisplayName": "Druckerei Rhein GmbH", "CompanyName": "Druckerei Rhein GmbH",
                              "PrintOnCheckName": "Druckerei Rhein GmbH", "Active": True, "Balance": 0,
                              "Vendor1099": False, "CurrencyRef": ref(*EURO)}, origin)
    services = sorted((i for i in b.rows["Item"].values() if i["Type"] == "Service" and i["Active"]
                       and to_cents(i["UnitPrice"]) > 0), key=lambda i: int(i["Id"]))
    yesterday = w.today - dt.timedelta(days=1)
    for n, (y, m) in enumerate(_months(w.start, yesterday)):
        day = max(dt.date(y, m, 12), w.start)
        if day > yesterday:
            continue
        cust = customers[n % len(customers)]
        item = services[n % len(services)]
        lines, total = sales_lines(b, [(item["Id"], r.randint(2, 12), to_cents(item["UnitPrice"]))])
        inv_id = b.next_id("Invoice")
        rate = eur_rate(day)
        first = day + dt.timedelta(days=18 + r.randrange(8))
        parts = [(first, total)] if n % 5 != 2 else [(first, total // 2), (first + dt.timedelta(days=20), total - total // 2)]
        at_rate = {"ExchangeRate": rate}
        paid, home_paid, linked, updated = 0, 0, [], utc_at(day, 17)
        for k, (pday, amount) in enumerate(parts):
            if pday > yesterday:
                break
            pid = b.next_id("Payment")
            pmoment = clamp(utc_at(pday, 18))
            b.put("Payment", {"Id": pid, "TxnDate": pday.isoformat(), "CustomerRef": ref(cust["Id"], cust["DisplayName"]),
                              "TotalAmt": cents(amount), "UnappliedAmt": 0, "ProcessPayment": False,
                              "PaymentRefNum": f"SEPA-{inv_id}-{k + 1}", "PaymentMethodRef": ref("6"),
                              "DepositToAccountRef": acct("checking"), "ARAccountRef": acct("ar_eur"),
                              "CurrencyRef": ref(*EURO), "ExchangeRate": eur_rate(pday),
                              "Line": [{"Amount": cents(amount), "LinkedTxn": [{"TxnId": inv_id, "TxnType": "Invoice"}]}]},
                  pmoment)
            paid += amount
            home_paid += home(amount, at_rate)     # what the payment takes off the euro A/R
            linked.append({"TxnId": pid, "TxnType": "Payment"})
            updated = pmoment
        b.put("Invoice", {"Id": inv_id, "DocNumber": f"INV-EU-{n + 1:03d}", "TxnDate": day.isoformat(),
                          "DueDate": (day + dt.timedelta(days=30)).isoformat(),
                          "CustomerRef": ref(cust["Id"], cust["DisplayName"]), "SalesTermRef": ref("2"), "Line": lines,
                          "TxnTaxDetail": {"TotalTax": 0}, "TotalAmt": cents(total),
                          "HomeTotalAmt": cents(home(total, at_rate)), "Balance": cents(total - paid),
                          "HomeBalance": cents(home(total, at_rate) - home_paid), "CurrencyRef": ref(*EURO),
                          "ExchangeRate": rate, "LinkedTxn": linked, "BillEmail": dict(cust["PrimaryEmailAddr"]),
                          "BillAddr": dict(cust["BillAddr"]), "EmailStatus": "EmailSent", "PrintStatus": "NotSet",
                          "GlobalTaxCalculation": "NotApplicable"}, clamp(utc_at(day, 17)), updated)
        # the vendor's monthly bill (printing), paid by check five weeks later
        bill_day = max(dt.date(y, m, 5), w.start)
        if bill_day > yesterday:
            continue
        amount = r.randrange(40_000, 250_000)
        bill_id = b.next_id("Bill")
        pay_day = bill_day + dt.timedelta(days=35)
        linked, updated = [], clamp(utc_at(bill_day, 19))
        if pay_day <= yesterday:
            bp_id = b.next_id("BillPayment")
            updated = clamp(utc_at(pay_day, 20))
            b.put("BillPayment", {"Id": bp_id, "TxnDate": pay_day.isoformat(), "VendorRef": ref(vid, vendor["DisplayName"]),
                                  "PayType": "Check", "TotalAmt": cents(amount), "DocNumber": f"EU-{bp_id}",
                                  "CheckPayment": {"BankAccountRef": acct("checking"), "PrintStatus": "NotSet"},
                                  "APAccountRef": acct("ap_eur"), "CurrencyRef": ref(*EURO),
                                  "ExchangeRate": eur_rate(pay_day),
                                  "Line": [{"Amount": cents(amount), "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}]}]},
                  updated)
            linked.append({"TxnId": bp_id, "TxnType": "BillPayment"})
        paid = amount if linked else 0
        b.put("Bill", {"Id": bill_id, "DocNumber": f"DR-{y}{m:02d}", "TxnDate": bill_day.isoformat(),
                       "DueDate": (bill_day + dt.timedelta(days=30)).isoformat(), "VendorRef": ref(vid, vendor["DisplayName"]),
                       "APAccountRef": acct("ap_eur"), "SalesTermRef": ref("2"), "TotalAmt": cents(amount),
                       "Balance": cents(amount - paid), "HomeBalance": cents(home(amount - paid, {"ExchangeRate": eur_rate(bill_day)})),
                       "CurrencyRef": ref(*EURO), "ExchangeRate": eur_rate(bill_day), "LinkedTxn": linked,
                       "Line": [{"Id": "1", "LineNum": 1, "Description": "Printing", "Amount": cents(amount),
                                 "DetailType": "AccountBasedExpenseLineDetail",
                                 "AccountBasedExpenseLineDetail": {"AccountRef": acct("Office Supplies"),
                                                                   "BillableStatus": "NotBillable", "TaxCodeRef": ref("NON")}}]},
              clamp(utc_at(bill_day, 19)), updated)


def month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))


# QuickBooks names months in English in its preferences, whatever the company's language.
MONTH_NAMES = (None, "January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def fiscal_year_start(day: dt.date, first_month: int) -> dt.date:
    """The first day of the fiscal year `day` is in, for a year starting in `first_month` (the
    company's preferences: AccountingInfoPrefs.FirstMonthOfFiscalYear)."""
    return dt.date(day.year - (1 if day.month < first_month else 0), first_month, 1)


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
