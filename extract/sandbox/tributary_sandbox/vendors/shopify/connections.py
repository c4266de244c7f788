"""Shopify's connections: cursor paging for the top-level lists (orders, customers, ...) and the
connections nested in a node (an order's lineItems, a refund's refundLineItems, ...), which page
on their own. `first`/`last` at most 250, opaque cursors, pageInfo; `sortKey` + `reverse`; the
`query:` filter is the shop's (data.py's Shop.sorted_rows). A bulk operation (api.py) reads a
connection whole, in windows, with no page limit.
"""
from __future__ import annotations

import base64
import bisect
import json
from typing import TYPE_CHECKING

from graphql import GraphQLError

if TYPE_CHECKING:
    from .data import Shop

MAX_PAGE = 250


def _cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _uncursor(cur: str):
    try:
        return json.loads(base64.urlsafe_b64decode(cur.encode()))
    except (ValueError, TypeError):
        raise GraphQLError("Invalid cursor for current pagination sort.")


def _page_args(info, args: dict) -> tuple[int | None, bool]:
    first, last = args.get("first"), args.get("last")
    if info.context.get("bulk"):
        return None, bool(args.get("reverse"))
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    size = first if first is not None else last
    if size > MAX_PAGE or size < 0:
        raise GraphQLError(f"The value of `{'first' if first is not None else 'last'}` must be between 0 and {MAX_PAGE}.")
    return size, bool(args.get("reverse")) ^ (first is None)


def connection(info, items: list, args: dict) -> dict:
    """A nested connection over an in-memory list; cursors are positions."""
    size, rev = _page_args(info, args)
    seq = list(reversed(items)) if rev else items
    start = 0
    if args.get("after"):
        start = int(_uncursor(args["after"])[0]) + 1
    chunk = seq[start:] if size is None else seq[start:start + size]
    cursors = [_cursor([start + i]) for i in range(len(chunk))]
    return {"edges": [{"cursor": c, "node": n} for c, n in zip(cursors, chunk)], "nodes": chunk,
            "pageInfo": {"hasNextPage": size is not None and start + size < len(seq), "hasPreviousPage": start > 0,
                         "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None}}


def root_connection(shop: Shop, name: str, info, args: dict) -> dict:
    """A top-level connection over the shop's table `name`; cursors are the rows' sort keys, so
    a page boundary holds while rows change between pages."""
    size, rev = _page_args(info, args)
    keys, payloads, builder = shop.sorted_rows(name, args.get("sortKey"), args.get("query"))
    order = range(len(keys) - 1, -1, -1) if rev else range(len(keys))
    if args.get("after"):
        after = tuple(_uncursor(args["after"]))
        if rev:
            pos = bisect.bisect_left(keys, after) - 1
            order = range(pos, -1, -1)
        else:
            order = range(bisect.bisect_right(keys, after), len(keys))
    window = info.context.get("bulk_window")
    if window is not None:
        order = order[window[0]:window[0] + window[1]]
    picked = list(order if size is None else order[:size])
    nodes = [builder(payloads[i]) for i in picked]
    cursors = [_cursor(list(keys[i])) for i in picked]
    return {"edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes)], "nodes": nodes,
            "pageInfo": {"hasNextPage": size is not None and len(order) > size, "hasPreviousPage": bool(args.get("after")),
                         "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None}}
