"""QuickBooks Online's Accounting API v3, faithful to what tap-quickbooks 2.5.0 sends.

Served (on quickbooks.api.intuit.com / sandbox-quickbooks.api.intuit.com through the proxy, or
directly on the plain port), each behind the realm, token, minor version and throttle checks:
    GET  /v3/company/{realm}/companyinfo/{realm}
    GET  /v3/company/{realm}/preferences                 the company's settings (currency, fiscal year, tax)
    GET  /v3/company/{realm}/query?query=…              SELECT … [WHERE …] [ORDER BY …] [STARTPOSITION n] [MAXRESULTS m]
    POST /v3/company/{realm}/query                      (the query as the body)
    POST /v3/company/{realm}/batch                      ≤ 30 BatchItemRequest queries
    GET  /v3/company/{realm}/cdc?entities=…&changedSince=…   30-day look-back, ≤ 1000 objects
    GET  /v3/company/{realm}/reports/ProfitAndLoss|BalanceSheet   start_date, end_date,
                                                         accounting_method (P&L: Accrual|Cash; BalanceSheet: Accrual),
                                                         summarize_column_by (P&L: Total|Days|Month; BalanceSheet: Total)
    GET  /v3/company/{realm}/{entity}/{id}               one object
Errors are Intuit's Fault bodies; throttling is Intuit's XML ThrottleExceeded Fault (429).
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import re
import time
from bisect import bisect_left
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from ...world import cents
from .data import (COMPANY_TZ, ENTITY_BY_LOWER, MONTH_NAMES, RESULT_TYPES, Books, fiscal_year_start, local_date, month_end,
                   parse_time, qbo_time, utc_at)

if TYPE_CHECKING:
    from . import Simulator

MIN_MINOR_VERSION = 75                   # older minor versions are retired
MAX_PAGE = 1000
MAX_BATCH_ITEMS = 30
CDC_LOOKBACK_DAYS = 30
CDC_MAX_OBJECTS = 1000

# Name-list entities: queries return only Active=true rows unless asked otherwise.
NAME_LISTS = {"Account", "Customer", "Vendor", "Item", "Class", "Department", "Employee",
              "PaymentMethod", "Term", "TaxCode", "TaxRate", "Budget"}
# Report parameters Intuit documents that change the figures, which the sandbox does not compute.
REPORT_PARAMETERS_NOT_COMPUTED = {"date_macro", "customer", "vendor", "item", "class", "department",
                                  "adjusted_gain_loss"}
PL_GROUPS = (("Income", "Income", "Total Income"), ("COGS", "Cost of Goods Sold", "Total Cost of Goods Sold"),
             ("Expenses", "Expense", "Total Expenses"))
# Below Net Operating Income, each only when the chart has an account of its type (an exchange
# gain or loss is an Other Expense): (group, account type, header, summary)
PL_OTHER_GROUPS = (("OtherIncome", "Other Income", "Other Income", "Total Other Income"),
                   ("OtherExpenses", "Other Expense", "Other Expenses", "Total Other Expenses"))


# ---- formatting and errors ----------------------------------------------------------------------
def qbo_stamp(moment: dt.datetime) -> str:
    """The response `time` attribute (milliseconds, company zone), e.g. 2025-03-04T10:11:12.123-08:00."""
    m = moment.astimezone(COMPANY_TZ)
    return m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}" + m.strftime("%z")[:3] + ":" + m.strftime("%z")[3:]


def fmt_money(c: int) -> str:
    """Report cell text: integer cents → "1234.50" / "-0.99" (exact, no float rounding)."""
    return ("-" if c < 0 else "") + f"{abs(c) // 100}.{abs(c) % 100:02d}"


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
    q = {"entity": entity, "count": m["what"] != "*", "time": [], "created": [], "active": None, "ids": None,
         "fields": [], "order": _order_path(m["order"]), "desc": (m["dir"] or "ASC").upper() == "DESC",
         "start": int(m["start"] or 1), "max": min(int(m["max"] or 100), MAX_PAGE)}
    if q["start"] < 1:
        raise QboError(400, "4000", "Error parsing query", "QueryParserError: STARTPOSITION must be >= 1")
    for cond in _split_outside_quotes(m["where"], r"\s+AND\s+") if m["where"] else []:
        cond = cond.strip()
        if (c := _COND_TIME.match(cond)):
            try:
                bound = (c[2], parse_time(c[3]).timestamp())
            except ValueError:
                raise QboError(400, "4000", "Error parsing query", f"QueryParserError: invalid date-time '{c[3]}'") from None
            q["time" if c[1].lower() == "lastupdatedtime" else "created"].append(bound)
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


def _order_path(order: str | None) -> list[str] | None:
    """ORDER BY's property as a path (None: the update time, the default and the tap's order)."""
    if not order or order.lower() == "metadata.lastupdatedtime":
        return None
    return order.split(".")


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


def _field_value(rec: dict, path: list[str]):
    """A property by its query name: a field, a dotted path, or a reference's value (CustomerRef = '58')."""
    value = rec
    for key in path:
        # Intuit's names are not case-sensitive in queries (MetaData, Metadata, METADATA)
        value = next((v for k, v in value.items() if k.lower() == key.lower()), None) if isinstance(value, dict) else None
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _sort_key(rec: dict, path: list[str]) -> tuple:
    """How ORDER BY ranks a record: absent values first, then true/false, numbers and ids (an Id or
    a reference's value) by value, other text (dates are ISO 8601) without regard to case; the Id
    breaks ties, so pages never overlap."""
    value = _field_value(rec, path)
    if value is None:
        rank = (0, 0, "")
    elif isinstance(value, bool):
        rank = (1, int(value), "")
    elif isinstance(value, (int, float, Decimal)) or (_is_id(path) and str(value).isdigit()):
        rank = (1, Decimal(str(value)), "")
    else:
        rank = (2, 0, str(value).lower())
    return (*rank, int(rec["Id"]) if str(rec.get("Id", "")).isdigit() else 0)


def _is_id(path: list[str]) -> bool:
    return path[-1].lower() == "id" or path[-1].lower().endswith("ref")


def _sortable(rows: list[dict], path: list[str]) -> None:
    """Intuit sorts on single values only: an address, a list of lines or MetaData as a whole is
    refused (the sandbox does not know Intuit's per-entity list of sortable properties)."""
    for rec in rows:
        value = _field_value(rec, path)
        if isinstance(value, (dict, list)):
            raise QboError(400, "4001", "Invalid query",
                           f"QueryValidationError: property '{'.'.join(path)}' is not sortable")


def _created(rec: dict) -> float | None:
    text = (rec.get("MetaData") or {}).get("CreateTime")
    return parse_time(text).timestamp() if text else None


def _field_matches(rec: dict, path: list[str], op: str, values: list) -> bool:
    value = _field_value(rec, path)
    if value is None or isinstance(value, (dict, list)):   # an address, the lines: no single value
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
        if q["created"] and not all((c := _created(rec)) is not None and _CMP[op](c, bound)
                                    for op, bound in q["created"]):
            continue
        if not all(_field_matches(rec, path, op, values) for path, op, values in q["fields"]):
            continue
        out.append(rec)
    if q["order"] is not None:   # any other property than the update time: sorted here
        _sortable(out, q["order"])
        out.sort(key=lambda rec: _sort_key(rec, q["order"]), reverse=q["desc"])
    if q["count"]:
        return {"totalCount": len(out)}
    page = out[q["start"] - 1: q["start"] - 1 + q["max"]]
    if not page:
        return {}                     # what QBO answers past the end; the tap's loop relies on it
    return {entity: page, "startPosition": q["start"], "maxResults": len(page)}

# ---- throttling --------------------------------------------------------------------------------
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
            last = min(month_end(cur.year, cur.month), end)
            out.append((cur, last))
            cur = last + dt.timedelta(days=1)
        return out
    return []


def profit_and_loss(b: Books, start: dt.date, end: dt.date, by: str, now: dt.datetime,
                    date_macro: str | None = None, basis: str = "Accrual") -> dict:
    """The P&L from the ledger, on the accrual basis or the cash basis (Books.cash_ledger). Data
    cells are "" when the account had no activity in that column (QBO leaves them blank); Summary
    cells are always numbers ("0.00")."""
    periods = _periods(start, end, by)
    led = b.cash_ledger() if basis == "Cash" else b.ledger()
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
            if atype not in RESULT_TYPES:
                continue
            v = -debit if atype in ("Income", "Other Income") else debit
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
    net_income = noi
    # a section for each kind of account the chart has (the same sections for any dates asked)
    charted = {a["AccountType"] for a in b.rows["Account"].values()}
    others = [(group, atype, header, label, sorted((a for a in amounts if b.account_type(a) == atype),
                                                   key=lambda a: b.account_name[a]))
              for group, atype, header, label in PL_OTHER_GROUPS if atype in charted]
    if others:
        net_other = ({}, 0)
        for group, atype, header, label, aids in others:
            sums = col_sums(aids)
            net_other = combine(net_other, sums, 1 if atype == "Other Income" else -1)
            rows.append({"Header": {"ColData": [{"value": header}] + [{"value": ""}] * (ncols + 1)},
                         "Rows": {"Row": [{"ColData": [{"value": b.account_name[a], "id": a}]
                                           + cells(amounts[a], totals[a], True), "type": "Data"} for a in aids]},
                         "Summary": {"ColData": [{"value": label}] + cells(sums[0], sums[1], False)},
                         "type": "Section", "group": group})
        rows.append({"Summary": {"ColData": [{"value": "Net Other Income"}] + cells(net_other[0], net_other[1], False)},
                     "type": "Section", "group": "NetOtherIncome"})
        net_income = combine(noi, net_other, 1)
    rows.append({"Summary": {"ColData": [{"value": "Net Income"}] + cells(net_income[0], net_income[1], False)},
                 "type": "Section", "group": "NetIncome"})
    columns = [{"ColTitle": "", "ColType": "Account", "MetaData": [{"Name": "ColKey", "Value": "account"}]}]
    for ps, pe in periods:
        columns.append({"ColTitle": _col_title(ps, pe, by), "ColType": "Money",
                        "MetaData": [{"Name": "StartDate", "Value": ps.isoformat()},
                                     {"Name": "EndDate", "Value": pe.isoformat()},
                                     {"Name": "ColKey", "Value": ps.isoformat() if by == "Days" else f"{ps:%b %Y}"}]})
    columns.append({"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]})
    return {"Header": _report_header("ProfitAndLoss", start, end, by or "Total", now, not amounts, date_macro, basis),
            "Columns": {"Column": columns}, "Rows": {"Row": rows}}


def _report_header(name: str, start: dt.date, end: dt.date, by: str, now: dt.datetime, empty: bool,
                   date_macro: str | None = None, basis: str = "Accrual") -> dict:
    header = {"Time": qbo_time(now), "ReportName": name}
    if date_macro:   # QuickBooks names the range it chose when no dates were asked for
        header["DateMacro"] = date_macro
    return {**header, "ReportBasis": basis, "StartPeriod": start.isoformat(), "EndPeriod": end.isoformat(),
            "SummarizeColumnsBy": by, "Currency": "USD",
            "Option": [{"Name": "AccountingStandard", "Value": "GAAP"},
                       {"Name": "NoReportData", "Value": "true" if empty else "false"}]}


# The balance sheet's layout, as QuickBooks Online lays it out: (title, group, summary label, then
# either the account types whose accounts are its rows, or its sub-sections). A section with no
# account left is not shown.
BALANCE_SHEET_ASSETS = ("ASSETS", "TotalAssets", "TOTAL ASSETS", [
    ("Current Assets", "CurrentAssets", "Total Current Assets", [
        ("Bank Accounts", "BankAccounts", "Total Bank Accounts", ("Bank",)),
        ("Accounts Receivable", "AR", "Total Accounts Receivable", ("Accounts Receivable",)),
        ("Other Current Assets", "OtherCurrentAssets", "Total Other Current Assets", ("Other Current Asset",))]),
    ("Fixed Assets", "FixedAssets", "Total Fixed Assets", ("Fixed Asset",)),
    ("Other Assets", "OtherAssets", "Total Other Assets", ("Other Asset",))])
BALANCE_SHEET_LIABILITIES = ("Liabilities", "Liabilities", "Total Liabilities", [
    ("Current Liabilities", "CurrentLiabilities", "Total Current Liabilities", [
        ("Accounts Payable", "AP", "Total Accounts Payable", ("Accounts Payable",)),
        ("Credit Cards", "CreditCards", "Total Credit Cards", ("Credit Card",)),
        ("Other Current Liabilities", "OtherCurrentLiabilities", "Total Other Current Liabilities",
         ("Other Current Liability",))]),
    ("Long-Term Liabilities", "LongTermLiabilities", "Total Long-Term Liabilities", ("Long Term Liability",))])


def balance_sheet(b: Books, start: dt.date, end: dt.date, now: dt.datetime, date_macro: str | None = None,
                  fiscal_year_start_month: int = 1) -> dict:
    """Balances as of `end` (a balance sheet is cumulative: `start` names the period only), in
    QuickBooks' sections. Equity shows Retained Earnings (the account's own postings plus every
    earlier fiscal year's profit, on the Retained Earnings account's row, as QuickBooks closes the
    year) and Net Income (this fiscal year, its first month to `end`), so TOTAL ASSETS == TOTAL
    LIABILITIES AND EQUITY. Accounts with a zero balance are left out."""
    bal: dict[str, int] = {}
    pl_before_year = pl_this_year = 0
    fy_start = fiscal_year_start(end, fiscal_year_start_month).isoformat()
    end_s = end.isoformat()
    for day, accts in b.ledger().items():
        if day > end_s:
            continue
        for aid, debit in accts.items():
            atype = b.account_type(aid)
            if atype in RESULT_TYPES:
                if day < fy_start:
                    pl_before_year -= debit
                else:
                    pl_this_year -= debit
            else:
                bal[aid] = bal.get(aid, 0) + debit
    empty = not bal and not pl_before_year and not pl_this_year

    def summary(label: str, total: int) -> dict:
        return {"ColData": [{"value": label}, {"value": fmt_money(total)}]}

    def account_row(aid: str, amount: int) -> dict:
        return {"ColData": [{"value": b.account_name[aid], "id": aid}, {"value": fmt_money(amount)}], "type": "Data"}

    def section(layout: tuple, sign: int) -> tuple[dict | None, int]:
        """A section and its total, or None when none of its accounts has a balance."""
        title, group, label, content = layout
        if isinstance(content, list):
            parts = [section(part, sign) for part in content]
            rows, total = [row for row, _ in parts if row], sum(t for _, t in parts)
        else:
            aids = sorted((a for a in bal if b.account_type(a) in content and bal[a]), key=lambda a: b.account_name[a])
            rows, total = [account_row(a, sign * bal[a]) for a in aids], sum(sign * bal[a] for a in aids)
        if not rows:
            return None, 0
        return {"Header": {"ColData": [{"value": title}, {"value": ""}]}, "Rows": {"Row": rows},
                "Summary": summary(label, total), "type": "Section", "group": group}, total

    assets, total_assets = section(BALANCE_SHEET_ASSETS, 1)
    liabilities, total_liabilities = section(BALANCE_SHEET_LIABILITIES, -1)
    retained_id = next(a for a, r in b.rows["Account"].items() if r.get("AccountSubType") == "RetainedEarnings")
    equity_amounts = {a: -v for a, v in bal.items() if b.account_type(a) == "Equity"}
    equity_amounts[retained_id] = equity_amounts.get(retained_id, 0) + pl_before_year
    equity_rows = [account_row(a, v) for a, v in sorted(equity_amounts.items(), key=lambda av: b.account_name[av[0]]) if v]
    equity_rows.append({"ColData": [{"value": "Net Income"}, {"value": fmt_money(pl_this_year)}],
                        "type": "Data", "group": "NetIncome"})
    total_equity = sum(equity_amounts.values()) + pl_this_year
    equity = {"Header": {"ColData": [{"value": "Equity"}, {"value": ""}]}, "Rows": {"Row": equity_rows},
              "Summary": summary("Total Equity", total_equity), "type": "Section", "group": "Equity"}
    assets = assets or {"Header": {"ColData": [{"value": "ASSETS"}, {"value": ""}]}, "Rows": {"Row": []},
                        "Summary": summary("TOTAL ASSETS", 0), "type": "Section", "group": "TotalAssets"}
    liabilities_and_equity = {
        "Header": {"ColData": [{"value": "LIABILITIES AND EQUITY"}, {"value": ""}]},
        "Rows": {"Row": [part for part in (liabilities, equity) if part]},
        "Summary": summary("TOTAL LIABILITIES AND EQUITY", total_liabilities + total_equity),
        "type": "Section", "group": "TotalLiabilitiesAndEquity"}
    return {"Header": _report_header("BalanceSheet", start, end, "Total", now, empty, date_macro),
            "Columns": {"Column": [{"ColTitle": "", "ColType": "Account", "MetaData": [{"Name": "ColKey", "Value": "account"}]},
                                   {"ColTitle": "Total", "ColType": "Money", "MetaData": [{"Name": "ColKey", "Value": "total"}]}]},
            "Rows": {"Row": [assets, liabilities_and_equity]}}


def monthly_pl_totals(b: Books, ledger: dict | None = None) -> dict:
    """Income, cost of goods sold, expenses and net income by month, from the (accrual) ledger or
    the one given (Books.cash_ledger for the cash basis)."""
    out: dict[str, dict[str, int]] = {}
    for day, accts in (b.ledger() if ledger is None else ledger).items():
        m = day[:7]
        for aid, debit in accts.items():
            atype = b.account_type(aid)
            key = {"Income": "income", "Cost of Goods Sold": "cogs", "Expense": "expenses",
                   "Other Income": "other_income", "Other Expense": "other_expenses"}.get(atype)
            if key:
                slot = out.setdefault(m, {"income": 0, "cogs": 0, "expenses": 0, "other_income": 0, "other_expenses": 0})
                slot[key] += -debit if key in ("income", "other_income") else debit
    return {m: {**{k: cents(v) for k, v in s.items()},
                "net_income": cents(s["income"] - s["cogs"] - s["expenses"] + s["other_income"] - s["other_expenses"])}
            for m, s in sorted(out.items())}


# ---- the routes --------------------------------------------------------------------------------
def add_routes(app: web.Application, simulator: "Simulator") -> None:
    default, companies = simulator, simulator.companies   # {realm id: its Simulator}: one app, several companies

    def reply(payload: dict, status: int = 200) -> web.Response:
        payload.setdefault("time", qbo_stamp(simulator.clock.now()))
        return web.Response(status=status, text=json.dumps(payload, separators=(",", ":")), content_type="application/json")

    def fault(err: QboError) -> web.Response:
        return reply({"Fault": err.body()}, err.status)

    def guard(request: web.Request, is_batch: bool = False) -> tuple["Simulator", web.Response | None]:
        """The company the URL's realm names, and Auth, realm, minor version and throttling, in QBO's
        order (a refusal, or None). An access token is good for its own company only."""
        simulator = companies.get(request.match_info.get("realm", ""))
        header = request.headers.get("Authorization")
        another_companys_token = simulator is not None and any(
            company.tokens.check_access(header) is None for company in companies.values() if company is not simulator)
        if simulator is None or another_companys_token:
            return default, reply({"Fault": {"Error": [{"Message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                                                         "Detail": "The realm id in the URL does not match the authorized company", "code": "3100"}],
                                              "type": "AUTHORIZATION"}}, 403)
        reason = simulator.tokens.check_access(request.headers.get("Authorization"))
        if reason:
            return simulator, reply({"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                                           "detail": f"{reason}: authentication failed", "code": "3200"}],
                                               "type": "AUTHENTICATION"}}, 401)
        mv = request.query.get("minorversion")
        if mv is not None and (not mv.isdigit() or int(mv) < MIN_MINOR_VERSION):
            return simulator, fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                             f"Minor version {mv} is no longer supported; use minorversion={MIN_MINOR_VERSION} or later"))
        if not simulator.throttle.allow(is_batch):
            return simulator, throttle_response(simulator.clock.now())
        return simulator, None

    async def company_info(request: web.Request) -> web.Response:
        simulator, refused = guard(request)
        if refused:
            return refused
        return reply({"CompanyInfo": {
            "Id": "1", "SyncToken": "4", "domain": "QBO", "sparse": False, "CompanyName": simulator.company_name,
            "LegalName": "Tributary Trading Company LLC", "Country": "US", "SupportedLanguages": "en",
            "FiscalYearStartMonth": MONTH_NAMES[simulator.fiscal_year_start_month],
            "Email": {"Address": "books@tributary-trading.com"},
            "WebAddr": {"URI": "https://www.tributary-trading.com"},
            "CompanyAddr": {"Id": "1", "Line1": "1 Harbor Way", "City": "San Francisco", "CountrySubDivisionCode": "CA",
                            "PostalCode": "94107", "Country": "US"},
            "CompanyStartDate": simulator.world.start.isoformat(),
            "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}],
            "MetaData": {"CreateTime": qbo_time(utc_at(simulator.world.start - dt.timedelta(days=30), 16))}}})

    async def preferences(request: web.Request) -> web.Response:
        """The company's settings, in Intuit's shape: what a client reads to know the home currency,
        the fiscal year, sales tax and the report basis before reading any figure."""
        simulator, refused = guard(request)
        if refused:
            return refused
        created = qbo_time(utc_at(simulator.world.start - dt.timedelta(days=30), 16))
        return reply({"Preferences": {
            "AccountingInfoPrefs": {"FirstMonthOfFiscalYear": MONTH_NAMES[simulator.fiscal_year_start_month],
                                    "UseAccountNumbers": True,
                                    "TaxYearMonth": "January", "ClassTrackingPerTxn": False,
                                    "TrackDepartments": False, "CustomerTerminology": "Customers"},
            "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True, "QuantityWithPriceAndRate": True,
                                        "QuantityOnHand": True},
            "SalesFormsPrefs": {"AllowDeposit": False, "AllowDiscount": True, "AllowEstimates": True,
                                "AllowServiceDate": False, "AllowShipping": True, "DefaultTerms": {"value": "3"},
                                "ETransactionEnabledStatus": "NotApplicable"},
            "EmailMessagesPrefs": {"InvoiceMessage": {"Subject": "Invoice from Tributary Trading Co",
                                                      "Message": "Your invoice is attached."}},
            "VendorAndPurchasesPrefs": {"TrackingByCustomer": False, "BillableExpenseTracking": False},
            "TimeTrackingPrefs": {"UseServices": True, "BillCustomers": False, "ShowBillRateToAll": False,
                                  "WorkWeekStartDate": "Monday", "MarkTimeEntriesBillable": False},
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True},
            "CurrencyPrefs": {"MultiCurrencyEnabled": simulator.multicurrency, "HomeCurrency": {"value": "USD"}},
            "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
            "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultCustomerMessage",
                                          "Value": "Thank you for your business."}]},
            "domain": "QBO", "sparse": False, "Id": "1", "SyncToken": "0",
            "MetaData": {"CreateTime": created, "LastUpdatedTime": created}}})

    async def query(request: web.Request) -> web.Response:
        simulator, refused = guard(request)
        if refused:
            return refused
        text = request.query.get("query")
        if text is None and request.can_read_body:
            text = await request.text()   # POST /query takes the query as application/text
        try:
            return reply({"QueryResponse": run_query(simulator.books, parse_query(text or ""))})
        except QboError as err:
            return fault(err)

    async def read_one(request: web.Request) -> web.Response:
        """GET /{entity}/{id}: one object, as `{"Invoice": {...}, "time": ...}`; an id the books do
        not hold is Intuit's 400 "Object Not Found" (code 610)."""
        simulator, refused = guard(request)
        if refused:
            return refused
        entity = ENTITY_BY_LOWER.get(request.match_info["entity"].lower())
        entity_id = request.match_info["entity_id"]
        if entity is None or not entity_id.isdigit():
            return fault(QboError(400, "4000", "Unsupported Operation",
                                  f"Operation Could not find resource for relative : {request.path} of full path: "
                                  f"{request.url} is not supported."))
        found = run_query(simulator.books, parse_query(f"SELECT * FROM {entity} WHERE Id = '{entity_id}'")).get(entity)
        if not found:
            return fault(QboError(400, "610", "Object Not Found",
                                  "Object Not Found : Something you're trying to use has been made inactive. Check "
                                  "the fields with accounts, customers, items, vendors or employees."))
        return reply({entity: found[0]})

    async def batch(request: web.Request) -> web.Response:
        simulator, refused = guard(request, is_batch=True)
        if refused:
            return refused
        try:
            items = json.loads(await request.text())["BatchItemRequest"]
            assert isinstance(items, list)
        except Exception:  # noqa: BLE001
            return fault(QboError(400, "2020", "Required param missing, need to supply the required value for the API",
                                  "Required parameter BatchItemRequest is missing in the request"))
        if len(items) > MAX_BATCH_ITEMS:
            return fault(QboError(400, "4003", "Too many batch items",
                                  f"Batch requests allow at most {MAX_BATCH_ITEMS} items; got {len(items)}"))
        out = []
        for item in items:
            try:
                if "Query" not in item:
                    raise QboError(400, "4000", "Operation not supported", "Only Query batch items are supported by the sandbox")
                out.append({"bId": item.get("bId"), "QueryResponse": run_query(simulator.books, parse_query(item["Query"]))})
            except QboError as err:
                out.append({"bId": item.get("bId"), "Fault": err.body()})
        return reply({"BatchItemResponse": out})

    async def cdc(request: web.Request) -> web.Response:
        simulator, refused = guard(request)
        if refused:
            return refused
        since_text = request.query.get("changedSince", "")
        names = [n.strip() for n in request.query.get("entities", "").split(",") if n.strip()]
        try:
            since = parse_time(since_text)
        except ValueError:
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  f"changedSince '{since_text}' is not a valid date-time"))
        if since < simulator.clock.now() - dt.timedelta(days=CDC_LOOKBACK_DAYS):
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  f"Operation cdc with changedSince date {since_text} which is older than fixed days is not supported."))
        entities = []
        for n in names:
            e = ENTITY_BY_LOWER.get(n.lower())
            if not e:
                return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                      f"Entity {n} is not supported by change data capture"))
            entities.append(e)
        t0 = since.timestamp()
        budget = CDC_MAX_OBJECTS
        responses = []
        for e in entities:
            changed = [simulator.books.rows[e][rid] for t, _, rid in simulator.books.ordered(e) if t >= t0]
            changed += [stub for stub in simulator.books.deleted[e].values()
                        if parse_time(stub["MetaData"]["LastUpdatedTime"]).timestamp() >= t0]
            changed = changed[:budget]
            budget -= len(changed)
            if changed:
                responses.append({e: changed, "startPosition": 1, "maxResults": len(changed), "totalCount": len(changed)})
            else:
                responses.append({})
        return reply({"CDCResponse": [{"QueryResponse": responses}]})

    async def report(request: web.Request) -> web.Response:
        """The two reports the tap and our wrapper read, with the parameters Intuit documents for
        them. A parameter that would change the figures and that the sandbox does not compute (a
        filter, a date macro, a cash-basis BalanceSheet, BalanceSheet columns other than Total) is refused,
        never ignored: an answer that looks right but is not what was asked hides client bugs."""
        simulator, refused = guard(request)
        if refused:
            return refused
        name = request.match_info["report"]
        if name not in ("ProfitAndLoss", "BalanceSheet"):
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  f"Report {name} is not supported by the sandbox (ProfitAndLoss, BalanceSheet)"))
        not_computed = sorted(set(request.query) & REPORT_PARAMETERS_NOT_COMPUTED)
        if not_computed:
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  f"{', '.join(not_computed)}: not supported by the sandbox (it answers explicit "
                                  f"start_date/end_date reports of the whole company)"))
        method = request.query.get("accounting_method", "Accrual")   # the company's ReportBasis (preferences)
        if method not in ("Accrual", "Cash"):
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  f"accounting_method={method} is not valid (Cash, Accrual)"))
        if method == "Cash" and name == "BalanceSheet":
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  "accounting_method=Cash is not supported by the sandbox for BalanceSheet "
                                  "(its ProfitAndLoss has both bases)"))
        today = local_date(simulator.clock.now())
        # No dates: QuickBooks' default range, this fiscal year to date (the company's), named in the header.
        year_start = fiscal_year_start(today, simulator.fiscal_year_start_month)
        date_macro = (None if {"start_date", "end_date"} & set(request.query)
                      else "this calendar year-to-date" if year_start.month == 1 else "this fiscal year-to-date")
        try:
            start = dt.date.fromisoformat(request.query.get("start_date", year_start.isoformat()))
            end = dt.date.fromisoformat(request.query.get("end_date", today.isoformat()))
        except ValueError:
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  "start_date/end_date must be YYYY-MM-DD"))
        if end < start:
            return fault(QboError(400, "2010", "Request has invalid or unsupported property", "end_date is before start_date"))
        by = request.query.get("summarize_column_by", "Total")
        if by not in ("Total", "Days", "Month") or (name == "BalanceSheet" and by != "Total"):
            return fault(QboError(400, "2010", "Request has invalid or unsupported property",
                                  f"summarize_column_by={by} is not supported by the sandbox for {name} "
                                  f"({'Total' if name == 'BalanceSheet' else 'Total, Days, Month'})"))
        if name == "ProfitAndLoss":
            return reply(profit_and_loss(simulator.books, start, end, by, simulator.clock.now(), date_macro, method))
        return reply(balance_sheet(simulator.books, start, end, simulator.clock.now(), date_macro,
                                   simulator.fiscal_year_start_month))

    base = "/v3/company/{realm}"
    app.add_routes([web.get(base + "/companyinfo/{cid}", company_info),
                    web.get(base + "/preferences", preferences),
                    web.get(base + "/query", query), web.post(base + "/query", query),
                    web.post(base + "/batch", batch),
                    web.get(base + "/cdc", cdc),
                    web.get(base + "/reports/{report}", report),
                    web.get(base + "/{entity}/{entity_id}", read_one)])   # last: the routes above win
