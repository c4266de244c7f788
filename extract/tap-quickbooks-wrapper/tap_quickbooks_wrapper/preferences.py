"""The company's settings, which the community tap does not read: the stream `preferences`, one
record per company (GET /v3/company/<realm>/preferences, Intuit's Preferences entity).

The finance models need them to read the books as QuickBooks does: the month the fiscal year
starts in (AccountingInfoPrefs.FirstMonthOfFiscalYear: the balance sheet closes each year's profit
into Retained Earnings when it ends), the home currency and whether multicurrency is on
(CurrencyPrefs), the report basis (ReportPrefs) and sales tax (TaxPrefs). The record is the entity
as QuickBooks sends it: its Id, SyncToken and MetaData, and each group of settings as an object.

Every run reads it whole, in one request (a company's settings are one small object, and a change
to them must arrive however old it is); the loader upserts it by Id. An answer that is not the
company's preferences stops the run naming the stream, the cause and the fix.

Like month_reports.py, the stream is the tap's own kind (a subclass of its Stream), registered in
its STANDARD_STREAMS and its discovery by guarded_tap.run(): the tap stays unmodified.
"""
from __future__ import annotations

from tap_quickbooks import discover
from tap_quickbooks.streams import STANDARD_STREAMS, Stream

from .faults import fault_text

# The groups of settings Intuit documents for the entity; each one lands as a JSON column.
SETTING_GROUPS = ("AccountingInfoPrefs", "CurrencyPrefs", "ReportPrefs", "TaxPrefs", "SalesFormsPrefs",
                  "ProductAndServicesPrefs", "VendorAndPurchasesPrefs", "TimeTrackingPrefs",
                  "EmailMessagesPrefs", "OtherPrefs")
NULLABLE_TEXT = {"type": ["null", "string"]}
SCHEMA = {
    "type": ["null", "object"],
    "properties": {
        "Id": NULLABLE_TEXT,
        "SyncToken": NULLABLE_TEXT,
        "MetaData": {"type": ["null", "object"], "properties": {
            "CreateTime": {"type": ["null", "string"], "format": "date-time"},
            "LastUpdatedTime": {"type": ["null", "string"], "format": "date-time"}}},
        **{group: {"type": ["null", "object"], "properties": {}} for group in SETTING_GROUPS},
    },
}


class NotPreferences(Exception):
    """QuickBooks answered the preferences request with something other than the company's settings."""


def not_preferences(answer) -> str | None:
    """Why `answer` is not a Preferences answer, or None."""
    if not isinstance(answer, dict):
        return f"a {type(answer).__name__} ({str(answer)[:200]!r})"
    fault = fault_text(answer)
    if fault:
        return fault
    preferences = answer.get("Preferences")
    if not isinstance(preferences, dict) or not preferences.get("Id"):
        return f"no Preferences with an Id (its keys: {', '.join(sorted(answer)) or 'none'})"
    return None


class Preferences(Stream):
    stream_name = "preferences"
    endpoint = "/v3/company/{realm_id}/preferences"
    replication_method = "FULL_TABLE"   # one request, every run: no bookmark
    # replication_keys stays the tap's ['MetaData']: its discovery marks the first one as always
    # read, and the SCHEMA message names it (the loader upserts by Id and ignores it).

    def sync(self):
        answer = self.client.get(self.endpoint)
        cause = not_preferences(answer)
        if cause:
            raise NotPreferences(
                f"QuickBooks answered the company's preferences (stream {self.stream_name}, GET {self.endpoint}) "
                f"with {cause}. The finance models read the fiscal year and the home currency from them, so "
                "the run stops before loading anything of this stream. Fix: run again; if it repeats, open "
                "Account and Settings in QuickBooks and check https://status.developer.intuit.com.")
        yield answer["Preferences"]


def register() -> None:
    """Make `preferences` one of the tap's streams: its do_sync finds it in STANDARD_STREAMS (selected
    in the shipped catalog), and its discovery gets its schema."""
    STANDARD_STREAMS[Preferences.stream_name] = Preferences
    load_schemas = discover._load_schemas
    discover._load_schemas = lambda: {**load_schemas(), Preferences.stream_name: SCHEMA}
