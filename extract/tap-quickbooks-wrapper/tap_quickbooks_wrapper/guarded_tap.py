"""The community tap-quickbooks (unmodified), run with one guard around its client.

QuickBooks answers a batch of queries with HTTP 200 even when one of them failed: that item of
`BatchItemResponse` holds a `Fault` instead of a `QueryResponse`. The tap reads such an item (and
an answer without `BatchItemResponse` at all) as "no more rows", so the run ends green without
that entity's changes. Here the client's `post` is wrapped: such an answer stops the run naming
the entity, the cause and the fix (the bookmark stays: the tap writes it only after records).
The wrapper (main.py) runs this module instead of the tap's own executable.
"""
from __future__ import annotations

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


def run() -> None:
    from tap_quickbooks import main
    from tap_quickbooks.client import QuickbooksClient

    QuickbooksClient.post = checked(QuickbooksClient.post)
    sys.exit(main())


if __name__ == "__main__":
    run()
