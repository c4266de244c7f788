"""The community tap-quickbooks (unmodified), run with guards around its client and its change feed.

QuickBooks answers a batch of queries with HTTP 200 even when one of them failed: that item of
`BatchItemResponse` holds a `Fault` instead of a `QueryResponse`. The tap reads such an item (and
an answer without `BatchItemResponse` at all) as "no more rows", so the run ends green without
that entity's changes. Here the client's `post` is wrapped: such an answer stops the run naming
the entity, the cause and the fix (the bookmark stays: the tap writes it only after records).

Deletions come from QuickBooks' change feed (CDC), which answers at most 1000 objects per entity
and per request, with no way to ask for the rest. The tap asks for every change since its
deleted_objects bookmark, which it moves only when it finds a deletion: so each run re-asked for
up to 29 days of changes, and a company with more than 1000 invoice changes in that time lost its
deletions silently (the answer's first 1000 objects held none). Here:
  * after the change feed was read whole, the bookmark moves to when this run started (QuickBooks'
    own clock: the "time" of its first answer), less CHANGE_FEED_OVERLAP: the next run asks only for
    what changed since (in the tap's state, which the loader saves only once the deletions before
    it are written). A first load (no bookmark) reads the feed from there too: it read every
    current row, so deletions before it are already absent;
  * an answer that holds 1000 objects of one entity may have left some out: the run stops naming
    the entity, the cause and the fix, and the bookmark stays.
It also adds three streams the tap does not have to the tap's own streams before the tap starts:
balance_sheet_report and profit_loss_cash_report (month_reports.py: QuickBooks' BalanceSheet report
and its cash-basis ProfitAndLoss, month by month) and preferences (preferences.py: the company's
settings, its fiscal year among them). And it makes the tap's record handling faster without
changing a byte of its output (transform_speedups.py).
The wrapper (main.py) runs this module instead of the tap's own executable.
"""
from __future__ import annotations

import datetime as dt
import sys


class BatchItemFault(Exception):
    """A query inside a QuickBooks batch failed, though the batch answered 200."""


def fault_message(item: dict) -> str | None:
    fault = item.get("Fault") or item.get("fault")
    if not fault:
        return None
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0] if isinstance(errors, list) and errors else {}
    entity = item.get("bId") or "?"
    return (f"QuickBooks answered the batch (HTTP 200) with a Fault for entity {entity}: "
            f"{first.get('Message') or first.get('message') or fault.get('type') or 'no message'} "
            f"(code {first.get('code', '?')}{', ' + str(first['Detail']) if first.get('Detail') else ''}). Nothing of "
            f"{entity} past the last loaded page was marked as synced. Fix: run again; if it repeats, check that "
            "entity in QuickBooks and https://status.developer.intuit.com.")


def checked(post):
    def post_checked(self, url, headers=None, data=None):
        answer = post(self, url, headers=headers, data=data)
        note_quickbooks_time(answer)
        if "/batch" in url:
            items = answer.get("BatchItemResponse") if isinstance(answer, dict) else None
            if not isinstance(items, list):  # the tap would read it as "no more rows"
                raise BatchItemFault(
                    "QuickBooks answered the batch (HTTP 200) without a BatchItemResponse list, which is not a "
                    "batch answer. Nothing past the last loaded page was marked as synced. Fix: run again; if it "
                    "repeats, check https://status.developer.intuit.com.")
            for item in items:
                message = fault_message(item) if isinstance(item, dict) else None
                if message:
                    raise BatchItemFault(message)
        return answer
    return post_checked


CHANGE_FEED_MAX_OBJECTS = 1000                  # QuickBooks' CDC: the most objects one answer holds
CHANGE_FEED_OVERLAP = dt.timedelta(hours=1)     # re-read this much before the last read: clock skew, late commits


class ChangeFeedTruncated(Exception):
    """A change-feed answer may have left changes (deletions among them) out."""


run_started: list[dt.datetime] = []   # QuickBooks' clock at its first answer of this run


def note_quickbooks_time(answer) -> None:
    """Keep QuickBooks' clock at the run's first answer (its "time"; this machine's clock without one)."""
    if run_started:
        return
    try:
        run_started.append(_parse(str(answer["time"])))
    except (KeyError, TypeError, ValueError):
        run_started.append(dt.datetime.now(dt.timezone.utc))


def complete_change_feed(get):
    """The client's `get`, stopping the run on a change-feed answer that may be cut short."""
    def get_checked(self, url, headers=None, params=None):
        answer = get(self, url, headers=headers, params=params)
        note_quickbooks_time(answer)
        entities = str((params or {}).get("entities", ""))
        if "/cdc" in url and "," not in entities and isinstance(answer, dict):
            for response in (answer.get("CDCResponse") or [{}])[0].get("QueryResponse") or []:
                for entity, values in response.items():
                    if isinstance(values, list) and len(values) >= CHANGE_FEED_MAX_OBJECTS:
                        raise ChangeFeedTruncated(
                            f"QuickBooks' change feed answered {len(values)} {entity} changes since "
                            f"{(params or {}).get('changedSince')}, the most one answer holds: deletions among the "
                            f"rest cannot be read, so none were marked as synced. It reads what changed since the "
                            f"last complete run, so this happens after a long pause or a mass edit. Fix: reload "
                            f"QuickBooks whole (drop the raw_quickbooks schema and `meltano state clear "
                            f"<environment>:tap-quickbooks-to-target-postgres`, then run the quickbooks job).")
        return answer
    return get_checked


def advancing_bookmark(sync, write_state):
    """DeletedObjects.sync from the run's start less the overlap on a first load, and the bookmark
    moved there after every complete read (re-reading that hour is harmless: upserts).
    `write_state` emits the tap's state (singer.write_state)."""
    def sync_advancing(self):
        read_from = (run_started[0] if run_started else dt.datetime.now(dt.timezone.utc)).astimezone(
            dt.timezone.utc) - CHANGE_FEED_OVERLAP
        bookmark = self.state.setdefault("bookmarks", {}).setdefault(self.stream_name, {})
        bookmark.setdefault("LastUpdatedTime", read_from.strftime("%Y-%m-%dT%H:%M:%SZ"))
        yield from sync(self)   # every answer was whole (complete_change_feed), its deletions emitted
        self.state.setdefault("bookmarks", {}).setdefault(self.stream_name, {})["LastUpdatedTime"] = (
            read_from.strftime("%Y-%m-%dT%H:%M:%SZ"))
        write_state(self.state)
    return sync_advancing


def _parse(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def run() -> None:
    import singer
    from tap_quickbooks import main
    from tap_quickbooks.client import QuickbooksClient
    from tap_quickbooks.streams import DeletedObjects

    from .month_reports import register as add_month_report_streams
    from .preferences import register as add_preferences_stream
    from .transform_speedups import install as speed_up_record_transform

    QuickbooksClient.post = checked(QuickbooksClient.post)
    QuickbooksClient.get = complete_change_feed(QuickbooksClient.get)
    DeletedObjects.sync = advancing_bookmark(DeletedObjects.sync, singer.write_state)
    add_month_report_streams(run_started)   # their current month ends at QuickBooks' today
    add_preferences_stream()
    speed_up_record_transform()   # the same records, in about half the tap's time
    sys.exit(main())


if __name__ == "__main__":
    run()
