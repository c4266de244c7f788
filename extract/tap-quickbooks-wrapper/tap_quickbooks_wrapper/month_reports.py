"""Two QuickBooks reports the community tap does not read, one record a month: the streams
balance_sheet_report (the BalanceSheet, accrual basis) and profit_loss_cash_report (the
ProfitAndLoss, cash basis).

The tap reads one report, the ProfitAndLoss on the company's own basis, day by day. The finance
models reconcile what they build from the ledger with QuickBooks' own reports, to the cent: the
balance sheet with the BalanceSheet, the cash-basis profit and loss with the cash-basis
ProfitAndLoss. So these streams ask QuickBooks for them: one GET /reports/<report> per month, with
start_date the month's first day, end_date its last day (for the current month QuickBooks' today)
and the stream's accounting_method, in one Total column. A balance sheet is cumulative: start_date
only names the period; a profit and loss covers the month. Both dates are always sent
(QuickBooks' default range is the year to date).

Each is the tap's own kind of stream, a ReportStream whose row parsing it reuses, registered in
the tap's STANDARD_STREAMS (and its discovery) by guarded_tap.run(), so the tap's do_sync writes
its SCHEMA, RECORDs and STATE; the tap stays unmodified. A record, the same shape as
profit_loss_report's, plus the period's last day:
    ReportDate        the month's first day (the key, and the replication key)
    AsOfDate          the month's last day the report covers (the balances' day, for the balance sheet)
    AccountingMethod  "Accrual" or "Cash"
    Details           each report row's label -> its amount as text, as ReportStream collects
                      them: the Data and Summary rows (section headers carry no amount)

Months: from start_date's month on a first run; afterwards from the month holding the bookmark
(the last month loaded) less `report_restatement_days` (default 90, never before start_date), to
the current month: an edit to last quarter's books (month-end closing), or a payment of last
quarter's invoice (cash basis), changes those months' reports, so they are read again. The
bookmark moves after each month's record.

An answer that is not a report (a Fault, or no Rows/Columns) stops the run naming the month, the
cause and the fix: a month is never loaded empty in silence. QuickBooks' own "no data" report
(NoReportData, e.g. a month before the company's first transaction) is a record with empty Details.
"""
from __future__ import annotations

import datetime as dt

import singer
from singer.utils import strptime_to_utc
from tap_quickbooks import discover
from tap_quickbooks.streams import STANDARD_STREAMS, ReportStream

from .faults import fault_text
from .main import DEFAULT_REPORT_RESTATEMENT_DAYS   # the P&L's: one setting, report_restatement_days

SCHEMA = {
    "type": ["null", "object"],
    "properties": {
        "ReportDate": {"type": ["null", "string"], "format": "date-time"},
        "AsOfDate": {"type": ["null", "string"], "format": "date-time"},
        "AccountingMethod": {"type": ["null", "string"]},
        "Details": {"type": ["null", "object"], "properties": {}},
    },
}


class NotAReport(Exception):
    """QuickBooks answered a report request with something other than a report."""


def _next_month(first_day: dt.date) -> dt.date:
    return (first_day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def report_months(start_date: str, bookmark: str | None, today: dt.date,
                  restatement_days: int) -> list[tuple[dt.date, dt.date]]:
    """(first day, as-of day) of every month to read, oldest first, up to today's month."""
    start = strptime_to_utc(start_date).date()
    if start > today:
        return []
    first = start
    if bookmark:
        first = max(strptime_to_utc(bookmark).date() - dt.timedelta(days=restatement_days), start)
    month = min(first, today).replace(day=1)   # a bookmark ahead of QuickBooks' clock still reads this month
    months = []
    while month <= today:
        months.append((month, min(_next_month(month) - dt.timedelta(days=1), today)))
        month = _next_month(month)
    return months


def not_a_report(answer) -> str | None:
    """Why `answer` is not a report, or None. Without data QuickBooks may leave Rows out."""
    if not isinstance(answer, dict):
        return f"a {type(answer).__name__} ({str(answer)[:200]!r})"
    fault = fault_text(answer)
    if fault:
        return fault
    missing = [key for key in ("Columns", "Rows") if key not in answer
               and not (key == "Rows" and has_no_data(answer))]
    if missing:
        return f"no {' and no '.join(missing)} (its keys: {', '.join(sorted(answer)) or 'none'})"
    return None


def has_no_data(report: dict) -> bool:
    options = ((report.get("Header") or {}).get("Option")) or []
    return any(o.get("Name") == "NoReportData" and str(o.get("Value")).lower() == "true"
               for o in options if isinstance(o, dict))


class MonthReport(ReportStream):
    """One QuickBooks report a month, in one Total column: a subclass names the stream, the report
    and its basis."""
    stream_name = ""
    report = ""
    accounting_method = ""
    # QuickBooks' clock at its first answer of the run (guarded_tap.run_started, set by register):
    # the current month ends at the company's today, not this machine's.
    quickbooks_clock: list[dt.datetime] = []

    @property
    def endpoint(self) -> str:
        return f"/v3/company/{{realm_id}}/reports/{self.report}"

    def sync(self):
        bookmark = singer.get_bookmark(self.state, self.stream_name, "LastUpdatedTime")
        days = self.config.get("report_restatement_days")   # 0 is a choice: re-read the last month only
        restatement_days = DEFAULT_REPORT_RESTATEMENT_DAYS if days in (None, "") else int(days)
        for first_day, as_of in report_months(self.config["start_date"], bookmark, self.quickbooks_today(),
                                              restatement_days):
            answer = self.client.get(self.endpoint, params={
                "start_date": first_day.isoformat(), "end_date": as_of.isoformat(),
                "accounting_method": self.accounting_method})
            yield self.month_record(first_day, as_of, answer)
            # after the record: the tap wrote it before asking for the next one
            self.state = singer.write_bookmark(self.state, self.stream_name, "LastUpdatedTime",
                                               strptime_to_utc(first_day.isoformat()).isoformat())
            singer.write_state(self.state)

    def quickbooks_today(self) -> dt.date:
        if not self.quickbooks_clock:   # nothing asked yet this run: any answer carries QuickBooks' "time"
            self.client.get("/v3/company/{realm_id}/companyinfo/{realm_id}")
        now = self.quickbooks_clock[0] if self.quickbooks_clock else dt.datetime.now(dt.timezone.utc)
        return now.date()   # in the company's zone: QuickBooks' "time" carries its offset

    def month_record(self, first_day: dt.date, as_of: dt.date, answer) -> dict:
        cause = not_a_report(answer)
        if cause:
            raise NotAReport(
                f"QuickBooks answered the {self.report} report of {first_day:%Y-%m} (stream {self.stream_name}, "
                f"start_date={first_day}, end_date={as_of}, accounting_method={self.accounting_method}) with "
                f"{cause}, not a report. This run loaded no month from {first_day:%Y-%m} on; the stream's bookmark "
                f"stays at the last month loaded. Fix: run again; if it repeats, open that report for "
                f"{first_day} to {as_of} in QuickBooks and check https://status.developer.intuit.com.")
        self.parsed_metadata = {"dates": [], "data": []}   # the tap's parser appends to it
        if not has_no_data(answer):
            self.parse_report_rows(answer.get("Rows", {}))
        # each parsed row's values are its money columns: one, Total (a later equal label wins, as in the tap)
        details = {row["name"]: (row["values"][-1] if row["values"] else "") for row in self.parsed_metadata["data"]}
        return {"ReportDate": first_day.isoformat(), "AsOfDate": as_of.isoformat(),
                "AccountingMethod": self.accounting_method, "Details": details}


class BalanceSheetReport(MonthReport):
    stream_name = "balance_sheet_report"
    report = "BalanceSheet"
    accounting_method = "Accrual"


class CashProfitAndLossReport(MonthReport):
    """Income and expenses as money moved: an invoice or bill counts as it is paid."""
    stream_name = "profit_loss_cash_report"
    report = "ProfitAndLoss"
    accounting_method = "Cash"


MONTH_REPORTS = (BalanceSheetReport, CashProfitAndLossReport)


def register(quickbooks_clock: list[dt.datetime]) -> None:
    """Make each month report one of the tap's streams: its do_sync finds them in STANDARD_STREAMS
    (selected in the shipped catalog), and its discovery, which reads each stream's schema from the
    tap's own files, gets ours too."""
    MonthReport.quickbooks_clock = quickbooks_clock
    for stream in MONTH_REPORTS:
        STANDARD_STREAMS[stream.stream_name] = stream
    load_schemas = discover._load_schemas
    discover._load_schemas = lambda: {**load_schemas(), **{stream.stream_name: SCHEMA for stream in MONTH_REPORTS}}
