"""Is the warehouse exactly the sandbox's truth? Row counts and content checksums, per table.

    assert_warehouse_matches_truth("quickbooks")      # or "attio", "ga4", "shopify"
    compare_with_truth("shopify").ok                  # the same, as a value (a `Comparison`)

For every table of a source, both sides are reduced to fingerprint rows `key -> (field, ...)`
(business columns only: never the loader's _sdc_ columns), normalised the same way on both sides
(money as exact decimals, times in UTC). A table matches when the row counts are equal and the
md5 of the sorted `key|field|…` lines is equal; on a mismatch the diff names the keys missing,
duplicated, unexpected and the rows whose content differs.

Which warehouse rows count ("live" rows), per source — the raw tables, read the way staging reads
them, except that nothing is de-duplicated: a key present twice is a defect and is reported.
  quickbooks  raw_quickbooks.<stream>: rows not marked deleted by the loader and not removed by a
              QuickBooks deletion (raw_quickbooks.deleted_objects, same "Type" and "Id", at least
              as new as the row: the rule of staging's quickbooks_current_rows). Fields: SyncToken
              (QuickBooks bumps it on every change, so a stale row differs), TotalAmt where the
              entity has one, MetaData.LastUpdatedTime. Also deleted_objects itself, keyed
              "Type:Id", against the books' deletion log.
              Truth: GET /_sandbox/quickbooks/truth/rows (every live row of the books).
              profit_loss_report: one row per day from the tap's start_date to today (UTC, the
              tap's clock), keyed by ReportDate; field: its "Details" (row label -> amount) with
              the blank cells left out (QuickBooks leaves an account's cell blank on a day it had
              no activity, and a re-read window lists other accounts). Truth: GET
              /_sandbox/quickbooks/truth/profit-and-loss, the daily report as the API serves it.
              Our wrapper rewinds the report's bookmark 90 days at every run (restatements), so
              a restated day is compared too.
  attio       raw_attio.<object> and raw_attio.list_entries_<list> (every object and list, custom
              ones included), notes, tasks, workspace_members: rows with _sdc_deleted_at null
              (every stream is FULL_TABLE + ACTIVATE_VERSION: the loader stamps rows a complete
              run no longer sent). Records and entries are fingerprinted by the md5 of their raw
              `values` / `entry_values` JSON, exactly as Attio served it (any value, history
              included); notes, tasks and members by their own fields.
              Truth: GET /_sandbox/attio/truth/rows (everything exactly as served).
  ga4         raw_ga4.<report> for the tap's default reports, property 412345678: every row (the
              loader upserts on row_key; restated days replace their figures). Key: date and
              every dimension; fields: every metric. Truth: the Data API itself, asked the same
              report over the tap's whole range (start_date .. yesterday) in one request.
  shopify     raw_shopify.<stream>, rows with _sdc_deleted_at null. Key: the GID; field:
              updatedAt (the tap's incremental bookmark: a stale row differs). Orders also carry
              their money (subtotal, discounts, shipping, tax, total, refunded) and their number
              of line items. inventory_levels (a child stream of locations) by count only.
              Truth: GET /_sandbox/shopify/truth/rows and /_sandbox/shopify/truth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
from psycopg import sql

from this_worker import SANDBOX_PORT, WAREHOUSE

SOURCES = ("quickbooks", "attio", "ga4", "shopify")
MAX_LISTED = 10  # keys listed per kind of difference in a report

# QuickBooks entity -> the tap's stream (= raw table), for every selected entity stream.
QUICKBOOKS_STREAMS = {
    "Account": "accounts", "Customer": "customers", "Vendor": "vendors", "Item": "items",
    "Invoice": "invoices", "SalesReceipt": "sales_receipts", "Payment": "payments",
    "CreditMemo": "credit_memos", "RefundReceipt": "refund_receipts", "Bill": "bills",
    "BillPayment": "bill_payments", "Purchase": "purchases", "JournalEntry": "journal_entries",
    "Deposit": "deposits", "Transfer": "transfers", "Estimate": "estimates", "Term": "terms",
    "PaymentMethod": "payment_methods", "TaxAgency": "tax_agencies", "TaxRate": "tax_rates",
}
QUICKBOOKS_START_DATE = "2024-01-01"   # tap-quickbooks' start_date (extract/extractors.meltano.yml)
GA4_PROPERTY = "412345678"   # the dev environment's property_ids
GA4_START_DATE = "2024-01-01"  # tap-ga4's start_date (extract/extractors.meltano.yml)
SHOPIFY_MONEY = {  # order column -> the truth's key
    "subtotalPriceSet": "subtotal", "totalDiscountsSet": "discounts", "totalShippingPriceSet": "shipping",
    "totalTaxSet": "tax", "totalPriceSet": "total", "totalRefundedSet": "refunded",
}

Fingerprint = tuple  # the normalised business fields of one row

# Text no pipeline stage may alter, for the reliability suite's unicode / long-string cases: every
# value must arrive byte for byte, in the raw tables and in staging.
AWKWARD_TEXT = [
    "Zoë Ångström-Łukasiewicz 東京 株式会社 😀👩‍👩‍👧",               # accents, CJK, emoji with joiners
    "שלום עולם مرحبا",                                          # right-to-left
    "e\u0301 (combining) \u200b zero-width, tab\there, new\nline",
    'quotes " \' backslash \\ and a tail \\',
    "x" * 100_000,                                               # a very long string
]


# ---- the result ----------------------------------------------------------------------------------
@dataclass
class TableCheck:
    """One table: the truth's rows and the warehouse's live rows, as fingerprints."""
    table: str
    truth: dict[str, Fingerprint]
    loaded: list[tuple[str, Fingerprint]]          # (key, fingerprint); a key may repeat (a defect)
    note: str = ""

    @property
    def truth_checksum(self) -> str:
        return checksum((k, f) for k, f in self.truth.items())

    @property
    def loaded_checksum(self) -> str:
        return checksum(self.loaded)

    @property
    def ok(self) -> bool:
        return len(self.truth) == len(self.loaded) and self.truth_checksum == self.loaded_checksum

    def diff(self) -> dict[str, list]:
        counts = Counter(k for k, _ in self.loaded)
        loaded = dict(self.loaded)
        return {
            "missing": sorted(k for k in self.truth if k not in counts),
            "duplicated": sorted(k for k, n in counts.items() if n > 1),
            "unexpected": sorted(k for k in counts if k not in self.truth),
            "differing": sorted(k for k in self.truth if k in loaded and loaded[k] != self.truth[k]),
        }

    def describe(self) -> str:
        if self.ok:
            return f"{self.table}: {len(self.truth)} rows, checksums equal"
        lines = [f"{self.table}: truth {len(self.truth)} rows (md5 {self.truth_checksum[:8]}), "
                 f"warehouse {len(self.loaded)} rows (md5 {self.loaded_checksum[:8]})"]
        loaded = dict(self.loaded)
        for kind, keys in self.diff().items():
            if not keys:
                continue
            shown = keys[:MAX_LISTED]
            more = f" … and {len(keys) - len(shown)} more" if len(keys) > len(shown) else ""
            if kind == "differing":
                lines.append(f"  {len(keys)} differing:{more}")
                lines += [f"    {k}: truth {self.truth[k]} / warehouse {loaded[k]}" for k in shown]
            else:
                lines.append(f"  {len(keys)} {kind}: {', '.join(shown)}{more}")
        if self.note:
            lines.append(f"  ({self.note})")
        return "\n".join(lines)


@dataclass
class Comparison:
    source: str
    tables: list[TableCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def failing(self) -> list[TableCheck]:
        return [t for t in self.tables if not t.ok]

    def rows(self) -> dict[str, int]:
        """Live rows per table in the warehouse."""
        return {t.table: len(t.loaded) for t in self.tables}

    def report(self) -> str:
        head = f"{self.source}: {'warehouse == truth' if self.ok else 'warehouse != truth'} " \
               f"({len(self.tables) - len(self.failing)}/{len(self.tables)} tables match)"
        return "\n".join([head, *(t.describe() for t in (self.failing or self.tables))])


def checksum(rows) -> str:
    lines = sorted("|".join([key, *(_text(v) for v in fp)]) for key, fp in rows)
    return hashlib.md5("\n".join(lines).encode()).hexdigest()


def compare_with_truth(source: str) -> Comparison:
    """Every table of `source`, warehouse against the sandbox's truth (see the module's doc)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    with psycopg.connect(**WAREHOUSE) as conn:
        return Comparison(source, globals()[f"_{source}_tables"](conn))


def assert_warehouse_matches_truth(source: str) -> Comparison:
    """Fails with a readable diff (table, missing / duplicated / unexpected keys, differing rows)."""
    comparison = compare_with_truth(source)
    assert comparison.ok, comparison.report()
    return comparison


# ---- normalising ---------------------------------------------------------------------------------
def _text(value) -> str:
    return "∅" if value is None else str(value)


def money(value) -> str | None:
    """An amount as an exact decimal with two places: 12.5, "12.50" and 12.500 are one amount."""
    if value is None or value == "":
        return None
    return f"{Decimal(str(value)):.2f}"


def number(value) -> str | None:
    """A metric, exact: "3", 3 and 3.0 are one number; "1234.5" and 1234.50 too."""
    if value is None or value == "":
        return None
    d = Decimal(str(value))
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d.normalize())


def utc(value) -> str | None:
    """A time as ISO UTC to the second: QuickBooks' "-08:00", Shopify's "Z" and the warehouse's
    naive UTC timestamps compare equal."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)   # target-postgres stores UTC, naive
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_md5(value) -> str:
    """The md5 of a JSON value in canonical form (sorted keys): jsonb's key order is its own."""
    if isinstance(value, str):
        value = json.loads(value)
    return hashlib.md5(json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


# ---- the two sides' plumbing ---------------------------------------------------------------------
def sandbox_get(path: str):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{SANDBOX_PORT}{path}", timeout=120) as response:
        return json.loads(response.read())


def sandbox_post(path: str, body: dict, headers: dict | None = None):
    request = urllib.request.Request(f"http://127.0.0.1:{SANDBOX_PORT}{path}", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json", **(headers or {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=120) as response:
        return json.loads(response.read())


def _columns(conn, schema: str, table: str) -> set[str]:
    return {c for (c,) in conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table)).fetchall()}


def _rows(conn, schema: str, table: str, query: "str | sql.Composable", params: tuple = ()) -> tuple[list, str]:
    """The query's rows, or none (with a note) when the loader never created the table."""
    if not _columns(conn, schema, table):
        return [], f"{schema}.{table} does not exist"
    return conn.execute(query, params).fetchall(), ""


# ---- QuickBooks ----------------------------------------------------------------------------------
def _quickbooks_tables(conn) -> list[TableCheck]:
    truth = sandbox_get("/_sandbox/quickbooks/truth/rows")
    checks = []
    for entity, stream in QUICKBOOKS_STREAMS.items():
        has_amount = "TotalAmt" in _columns(conn, "raw_quickbooks", stream)
        amount = '"TotalAmt"' if has_amount else "null"
        rows, note = _rows(conn, "raw_quickbooks", stream, f"""
            select "Id", "SyncToken", {amount}, "MetaData" ->> 'LastUpdatedTime'
            from raw_quickbooks.{stream} as raw
            where raw._sdc_deleted_at is null
              and not exists (
                select 1 from raw_quickbooks.deleted_objects as deleted
                where deleted."Type" = %s and deleted."Id" = raw."Id"
                  and (deleted."MetaData" ->> 'LastUpdatedTime')::timestamptz
                      >= coalesce((raw."MetaData" ->> 'LastUpdatedTime')::timestamptz, '-infinity'))""",
                            (entity,))
        checks.append(TableCheck(
            stream,
            truth={r["Id"]: (r["SyncToken"], money(r["TotalAmt"]) if has_amount else None, utc(r["LastUpdatedTime"]))
                   for r in truth["rows"][entity]},
            loaded=[(i, (token, money(amt), utc(updated))) for i, token, amt, updated in rows], note=note))
    rows, note = _rows(conn, "raw_quickbooks", "deleted_objects",
                       """select "Type" || ':' || "Id" from raw_quickbooks.deleted_objects where _sdc_deleted_at is null""")
    checks.append(TableCheck(
        "deleted_objects",
        truth={f"{entity}:{i}": () for entity, ids in truth["deleted"].items() if entity in QUICKBOOKS_STREAMS
               for i in ids},
        loaded=[(key, ()) for (key,) in rows], note=note))
    checks.append(_quickbooks_profit_and_loss(conn))
    return checks


def _quickbooks_profit_and_loss(conn) -> TableCheck:
    today = dt.datetime.now(dt.timezone.utc).date()   # the tap's last report day (it asks up to its own today)
    truth = sandbox_get(f"/_sandbox/quickbooks/truth/profit-and-loss?start_date={QUICKBOOKS_START_DATE}"
                        f"&end_date={today.isoformat()}")
    rows, note = _rows(conn, "raw_quickbooks", "profit_loss_report",
                       """select "ReportDate"::text, "Details" from raw_quickbooks.profit_loss_report
                          where _sdc_deleted_at is null""")

    def figures(details: dict) -> str:
        return json_md5({label: money(amount) for label, amount in details.items() if amount not in ("", None)})

    return TableCheck("profit_loss_report", truth={day: (figures(d),) for day, d in truth.items()},
                      loaded=[(str(day)[:10], (figures(details or {}),)) for day, details in rows], note=note)


# ---- Attio ---------------------------------------------------------------------------------------
def _attio_tables(conn) -> list[TableCheck]:
    from tap_attio.tap import table_names   # the tap's naming of each object's and list's table

    truth = sandbox_get("/_sandbox/attio/truth/rows")
    object_tables, list_tables = table_names(truth["object_definitions"], truth["list_definitions"])
    checks = []
    live = sql.SQL("where _sdc_deleted_at is null")
    for slug, records in truth["objects"].items():
        table = object_tables[slug]
        rows, note = _rows(conn, "raw_attio", table, sql.SQL('select record_id, "values" from {} {}').format(
            sql.Identifier("raw_attio", table), live))
        checks.append(TableCheck(table, truth={r["id"]["record_id"]: (json_md5(r["values"]),) for r in records},
                                 loaded=[(k, (json_md5(v),)) for k, v in rows], note=note))
    for slug, entries in truth["lists"].items():
        table = list_tables[slug]
        rows, note = _rows(conn, "raw_attio", table, sql.SQL("select entry_id, entry_values from {} {}").format(
            sql.Identifier("raw_attio", table), live))
        checks.append(TableCheck(table, truth={e["id"]["entry_id"]: (json_md5(e["entry_values"]),) for e in entries},
                                 loaded=[(k, (json_md5(v),)) for k, v in rows], note=note))
    live = "where _sdc_deleted_at is null"
    rows, note = _rows(conn, "raw_attio", "notes",
                       f"select note_id, parent_record_id, title, content_plaintext from raw_attio.notes {live}")
    checks.append(TableCheck("notes", truth={n["id"]["note_id"]: (n["parent_record_id"], n["title"], n["content_plaintext"])
                                             for n in truth["notes"]},
                             loaded=[(r[0], tuple(r[1:])) for r in rows], note=note))
    rows, note = _rows(conn, "raw_attio", "tasks",
                       f"select task_id, content_plaintext, is_completed, deadline_at from raw_attio.tasks {live}")
    checks.append(TableCheck("tasks", truth={t["id"]["task_id"]: (t["content_plaintext"], t["is_completed"], utc(t["deadline_at"]))
                                             for t in truth["tasks"]},
                             loaded=[(k, (text, done, utc(deadline))) for k, text, done, deadline in rows], note=note))
    rows, note = _rows(conn, "raw_attio", "workspace_members",
                       f"select workspace_member_id, email_address, access_level from raw_attio.workspace_members {live}")
    checks.append(TableCheck("workspace_members",
                             truth={m["id"]["workspace_member_id"]: (m["email_address"], m["access_level"])
                                    for m in truth["workspace_members"]},
                             loaded=[(r[0], tuple(r[1:])) for r in rows], note=note))
    return checks


# ---- GA4 -----------------------------------------------------------------------------------------
def compare_ga4_reports(reports: list[dict]) -> Comparison:
    """The GA4 check for reports of the caller's own (a `reports` setting), not the defaults."""
    with psycopg.connect(**WAREHOUSE) as conn:
        return Comparison("ga4", _ga4_tables(conn, reports))


def _ga4_tables(conn, reports: list[dict] | None = None) -> list[TableCheck]:
    from tap_ga4.reports import DEFAULT_REPORTS, column_name   # the tap's report set and column naming

    token = sandbox_post("/_sandbox/ga4/token", {})["access_token"]
    # The truth's reports are not the tap's: whatever quota they use is given back afterwards.
    quota_before = sandbox_get(f"/_sandbox/ga4/quota?property_id={GA4_PROPERTY}")
    try:
        return _ga4_checks(conn, token, reports or DEFAULT_REPORTS, column_name)
    finally:
        sandbox_post("/_sandbox/ga4/quota", {"property_id": GA4_PROPERTY, **{
            name: budget["remaining"] for name, budget in quota_before.items() if name != "concurrentRequests"}})


def _ga4_checks(conn, token: str, reports: list[dict], column_name) -> list[TableCheck]:
    checks = []
    for report in reports:
        dims, mets = report["dimensions"], report["metrics"]
        answer = sandbox_post(
            f"/ga4/v1beta/properties/{GA4_PROPERTY}:runReport",
            {"dateRanges": [{"startDate": GA4_START_DATE, "endDate": "yesterday"}],
             "dimensions": [{"name": d} for d in dims], "metrics": [{"name": m} for m in mets], "limit": "250000"},
            headers={"Authorization": f"Bearer {token}"})
        assert answer.get("rowCount", 0) == len(answer.get("rows", [])), f"{report['name']}: the truth needs paging"

        def key(values: list) -> str:
            return "|".join(values)

        truth = {}
        for row in answer.get("rows", []):
            values = [v["value"] for v in row["dimensionValues"]]
            values[0] = f"{values[0][:4]}-{values[0][4:6]}-{values[0][6:]}"   # date: YYYYMMDD
            truth[key(values)] = tuple(number(m["value"]) for m in row["metricValues"])
        columns = [column_name(d) for d in dims]
        select = ", ".join([*(f'"{c}"::text' for c in columns), *(f'"{column_name(m)}"' for m in mets)])
        rows, note = _rows(conn, "raw_ga4", report["name"],
                           f"select {select} from raw_ga4.{report['name']} where property_id = %s", (GA4_PROPERTY,))
        loaded = [(key(list(r[:len(dims)])), tuple(number(v) for v in r[len(dims):])) for r in rows]
        checks.append(TableCheck(report["name"], truth=truth, loaded=loaded, note=note))
    return checks


# ---- Shopify -------------------------------------------------------------------------------------
def _shopify_tables(conn) -> list[TableCheck]:
    truth_rows = sandbox_get("/_sandbox/shopify/truth/rows")
    order_money = sandbox_get("/_sandbox/shopify/truth")
    checks = []
    live = "where _sdc_deleted_at is null"
    for stream, rows_truth in truth_rows.items():
        if stream == "orders":
            money_cols = ", ".join(f""""{c}" -> 'shopMoney' ->> 'amount'""" for c in SHOPIFY_MONEY)
            rows, note = _rows(conn, "raw_shopify", "orders",
                               f'select id, "updatedAt", {money_cols}, cardinality("lineItems") from raw_shopify.orders {live}')
            truth = {g: (utc(updated), *(money(order_money[g][k]) for k in SHOPIFY_MONEY.values()),
                         order_money[g]["line_items"]) for g, updated in rows_truth.items()}
            loaded = [(r[0], (utc(r[1]), *(money(v) for v in r[2:-1]), r[-1] or 0)) for r in rows]
        else:
            # locations have no updatedAt in the shop's truth: compared by GID only
            has_updated = any(rows_truth.values()) and "updatedAt" in _columns(conn, "raw_shopify", stream)
            rows, note = _rows(conn, "raw_shopify", stream,
                               f'select id, {"""("updatedAt")""" if has_updated else "null"} from raw_shopify.{stream} {live}')
            truth = {g: (utc(updated) if has_updated else None,) for g, updated in rows_truth.items()}
            loaded = [(g, (utc(updated),)) for g, updated in rows]
        checks.append(TableCheck(stream, truth=truth, loaded=loaded, note=note))
    # inventory levels: one per inventory item and location; their GIDs are the sandbox's own
    counts = sandbox_get("/_sandbox/shopify/counts")
    rows, note = _rows(conn, "raw_shopify", "inventory_levels", f"select id from raw_shopify.inventory_levels {live}")
    position = {g: f"#{i}" for i, g in enumerate(sorted({g for (g,) in rows}))}   # a repeated GID stays repeated
    checks.append(TableCheck("inventory_levels", truth={f"#{i}": () for i in range(counts["inventory_levels"])},
                             loaded=[(position[g], ()) for (g,) in rows], note=note or "compared by count only"))
    return checks
