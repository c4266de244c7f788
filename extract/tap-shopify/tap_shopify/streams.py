"""Shopify streams: one class, parameterised by a Resource from queries.py.

Paged path: `<root>(first:, after:, query: "updated_at:>='<bookmark>'", sortKey: UPDATED_AT)`,
each node's nested connections (line items, discount applications, shipping lines, refund line
items, refund transactions, addresses, checkout lines) are paged to their end with their own
cursor queries before the record is emitted: nothing is ever cut off at the first page.

Bulk path: bulkOperationRunQuery with the same selection (no page sizes), poll, download the
JSONL, put child rows back under their parent by __parentId, and emit records identical to the
paged path's.

State: the bookmark (updatedAt) moves only at the end of a fully emitted page (or of a complete
bulk file), and the ids already emitted at the bookmark's exact second are kept in state, so the
next run's `>=` query does not emit them again.
"""
from __future__ import annotations

import datetime as dt
import re
import time
import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from tributary_tap_support.sdk_private import (
    OwnBookmarks,
    set_stream_version,
    write_activate_version,
    write_record,
    write_state,
)
from tributary_tap_support.streams import TributaryStream

from tap_shopify import queries as q
from tap_shopify.client import ShopifyAPIError, QueryTooCostly, parse_json, sleep

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DELETIONS_LOOKBACK = dt.timedelta(hours=1)
GID_RE = re.compile(r"gid://shopify/BulkOperation/\d+")


def legacy_id(gid: str | None) -> int | None:
    if not gid:
        return None
    tail = gid.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def connection_page(holder: t.Any, key: str, where: str) -> tuple[list, dict]:
    """A connection's nodes and pageInfo from one page, once the answer is known to be a page:
    anything else is an error, never "no more rows"."""
    conn = holder.get(key) if isinstance(holder, dict) else None
    info = conn.get("pageInfo") if isinstance(conn, dict) else None
    if not isinstance(conn, dict) or not isinstance(conn.get("nodes"), list) or not isinstance(info, dict) \
            or not isinstance(info.get("hasNextPage"), bool):
        raise ShopifyAPIError(
            f"{where}: Shopify answered a page without {key}.nodes and {key}.pageInfo.hasNextPage, which is "
            "not a page of the listing. The run stopped; the bookmark stays at the last complete page. "
            "Fix: run again; if it repeats, check TAP_SHOPIFY_API_VERSION against the shop's.")
    return conn["nodes"], info


class ShopifyStream(OwnBookmarks, TributaryStream):
    """A top-level Shopify connection as a Singer stream."""

    # Records are built to the declared schema (both come from one declaration in queries.py),
    # so the SDK's per-record type conformance is skipped, and with it the walk of every nested
    # object for deselected fields (sdk_private.FastRecordPath).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    primary_keys = ("id",)
    incremental = True

    def __init__(self, tap, name: str, resource: q.Resource, *, incremental: bool, sorted_: bool,
                 bulk_capable: bool = False) -> None:
        self.resource = resource
        self.version = tap.config.get("api_version") or "2026-10"
        self._incremental = incremental
        self._sorted = sorted_
        self.bulk_capable = bulk_capable
        super().__init__(tap=tap, name=name, schema=self.stream_schema())
        if incremental:
            self.replication_key = "updatedAt"
        self.nested = q.nested_connections(resource.node, self.version)
        self._checkpoint = None
        self.last_mode: str | None = None

    def stream_schema(self) -> dict:
        return q.stream_schema(self.resource, self.version)

    @property
    def is_sorted(self) -> bool:
        return self._incremental and self._sorted

    @property
    def client(self):
        return self.tap.client

    # -- state -------------------------------------------------------------------------------------
    def record_synced(self, record: dict, context: Context | None) -> None:
        if not self._incremental:
            return
        if not self.is_sorted:
            self.advance_bookmark(record, context)
            return
        if record is not self._checkpoint:
            return                      # only at the end of a fully emitted page
        self.advance_bookmark(record, context)
        state = self.get_context_state(context)
        state["boundary_ids"] = list(self._boundary_ids)
        write_state(self)

    def _start(self, context: Context | None) -> tuple[str | None, set]:
        if not self._incremental:
            return None, set()
        start = self.get_starting_replication_key_value(context)
        state = self.get_context_state(context)
        seen = set(state.get("boundary_ids") or []) if state.get("replication_key_value") == start else set()
        return start, seen

    # -- deletions --------------------------------------------------------------------------------
    # Incremental streams (updated_at) never see a deleted record again: after its changes each
    # such stream reads Shopify's "destroy" events for its subject type since its last run and
    # sends a tombstone per deleted id ({id, _sdc_deleted_at}: the loader marks that row deleted,
    # keeping its last values; staging drops it). Full-table streams (locations, inventory levels)
    # send ACTIVATE_VERSION after a complete listing instead: the rows not listed are the deleted.
    def _send_deletions(self, context: Context | None) -> None:
        subject = q.DELETED_SUBJECTS.get(self.name)
        if subject is None or not self._incremental:
            return
        state = self.get_context_state(context)
        after = state.get("deletions_after") or self.config.get("start_date")
        if state.get("deletions_after"):
            # an event becomes searchable a little after it is created: re-read the last hour so
            # one created just before the newest seen is not skipped (a tombstone sent twice is harmless)
            after = (dt.datetime.fromisoformat(after.replace("Z", "+00:00")) - DELETIONS_LOOKBACK).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        search = f"action:destroy AND subject_type:{subject}" + (f" AND created_at:>='{after}'" if after else "")
        cursor, newest, sent = None, None, 0
        while True:
            data = self.client.execute(q.DELETIONS, {"first": q.MAX_PAGE, "after": cursor, "query": search},
                                       cost=2 + q.MAX_PAGE, what=f"{self.name} deletions")
            nodes, info = connection_page(data, "events", f"stream '{self.name}', deletions")
            for event in nodes:
                if event.get("action") != "destroy" or event.get("subjectType") != subject or not event.get("subjectId"):
                    continue  # another kind of event (a filter the shop ignored)
                write_record(self, {"id": event["subjectId"], "_sdc_deleted_at": event["createdAt"]})
                newest = max(newest or "", event["createdAt"])
                sent += 1
            if not info["hasNextPage"]:
                break
            cursor = info.get("endCursor")
        if sent:
            self.logger.info("%s: %d deleted in Shopify, marked deleted", self.name, sent)
        if newest:
            state["deletions_after"] = max(newest, state.get("deletions_after") or "")
            write_state(self)

    # -- records ---------------------------------------------------------------------------------
    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        yield from self._changed_records(context)
        self._send_deletions(context)

    def _changed_records(self, context: Context | None) -> t.Iterable[dict]:
        start, seen = self._start(context)
        search = f"updated_at:>='{start}'" if start and self.resource.search else None
        self._boundary_ids: list = []
        self._boundary_ts = start
        if self._use_bulk(search):
            self.last_mode = "bulk"
            records = self._bulk_records(search)
            if records is not None:
                yield from self._emit_bulk(records, seen, start)
                return
        self.last_mode = "paged"
        yield from self._paged_records(context, search, seen, start)

    def _use_bulk(self, search: str | None) -> bool:
        mode = (self.config.get("use_bulk") or "auto").lower()
        if not self.bulk_capable or mode == "never" or self.resource.parent_root:
            return False
        if mode == "always":
            return True
        threshold = int(self.config.get("bulk_threshold") or 10000)
        count_q = self.resource.count_query()
        if not count_q:
            return False
        data = self.client.execute(count_q, {"query": search, "limit": threshold}, cost=2, what=f"{self.name} count")
        found = data.get(self.resource.count_root) or {}
        n = int(found.get("count") or 0)
        use = n >= threshold
        self.logger.info("%s: %s%d records to sync -> %s", self.name,
                         "at least " if found.get("precision") == "AT_LEAST" else "", n,
                         "bulk operation" if use else "paged queries")
        return use

    def _track(self, record: dict) -> None:
        ts = record.get("updatedAt")
        if ts != self._boundary_ts:
            self._boundary_ts = ts
            self._boundary_ids = []
        self._boundary_ids.append(record["id"])

    def _paged_records(self, context, search, seen, start) -> t.Iterator[dict]:
        res = self.resource
        page_size = res.page_size(self.version, int(self.config.get("page_size") or q.MAX_PAGE))
        query = res.page_query(self.version)
        after = None
        while True:
            variables = {"first": page_size, "after": after}
            if res.search:
                variables["query"] = search
            if res.parent_root:
                variables["parentId"] = context["location_id"]
            cost = 2 + page_size * (1 + q.node_cost(res.node, self.version))
            try:
                data = self.client.execute(query, variables, cost=cost, what=f"{self.name} page")
            except QueryTooCostly:
                if page_size == 1:
                    raise
                page_size = max(1, page_size // 2)
                self.logger.warning("%s: query cost above Shopify's limit, page size now %d", self.name, page_size)
                continue
            if res.parent_root and data.get(res.parent_root) is None and res.parent_root in data:
                return  # the parent (a location) was deleted since it was listed: it has no rows
            nodes, info = connection_page(data.get(res.parent_root) if res.parent_root else data, res.root,
                                          f"stream '{self.name}'")
            emit = []
            for node in nodes:
                if seen and node.get("updatedAt") == start and node["id"] in seen:
                    continue            # emitted by the previous run at the bookmark's second
                self._complete(node)
                emit.append(node)
            for i, record in enumerate(emit):
                if self.is_sorted:
                    self._track(record)
                    if i == len(emit) - 1:
                        self._checkpoint = record
                yield record
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    def _complete(self, node: dict) -> None:
        """Page every nested connection of `node` to its end; connections become plain lists."""
        for path, holder, field, conn in self.nested:
            key = q.key_of(field)
            for h in _holders(node, path):
                value = h.get(key)
                if not isinstance(value, dict):
                    continue
                items = list(value.get("nodes") or [])
                info = value.get("pageInfo") or {}
                if info.get("hasNextPage"):
                    items += self._follow(h["id"], holder, field, conn, info.get("endCursor"))
                h[key] = items
        node["legacyResourceId"] = legacy_id(node.get("id"))

    def _follow(self, parent_id: str, holder, field, conn, after) -> list:
        query, root, first = q.nested_query(holder, field, conn, self.version)
        key = q.key_of(field)
        out = []
        while True:
            data = self.client.execute(query, {"id": parent_id, "first": first, "after": after},
                                       cost=3 + first * (1 + q.node_cost(conn.node, self.version)),
                                       what=f"{self.name} {key} of {parent_id}")
            nodes, info = connection_page(data.get(root), key, f"stream '{self.name}', {key} of {parent_id}")
            out += nodes
            if not info.get("hasNextPage"):
                return out
            after = info.get("endCursor")

    # -- bulk --------------------------------------------------------------------------------------
    def _bulk_records(self, search: str | None) -> t.Iterator[dict] | None:
        """Run the bulk operation; an iterator over reassembled records, or None to fall back to
        paged queries (the operation failed, was cancelled or expired)."""
        client = self.client
        bulk_q = self.resource.bulk_query(self.version, search)
        poll_q = q.bulk_poll_query(self.version)
        interval = float(self.config.get("bulk_poll_interval") or 5)
        timeout = float(self.config.get("bulk_timeout") or 6 * 3600)
        waited = 0.0
        while True:
            data = client.execute(q.BULK_RUN, {"query": bulk_q}, cost=10, what=f"{self.name} bulk run")
            payload = data.get("bulkOperationRunQuery") or {}
            errors = payload.get("userErrors") or []
            if not errors:
                op_id = payload["bulkOperation"]["id"]
                break
            busy = [e for e in errors if e.get("code") == "OPERATION_IN_PROGRESS"]
            if not busy:
                raise ShopifyAPIError(f"{self.name}: Shopify refused the bulk query: "
                                      + "; ".join(e.get("message", "") for e in errors))
            other = GID_RE.search(busy[0].get("message") or "")
            self.logger.warning("%s: another bulk query is running on this shop (%s); waiting for it to finish "
                                "(Shopify allows one per app and shop)", self.name, other.group(0) if other else "id unknown")
            if other is None and self.version >= "2026-01":
                raise ShopifyAPIError(f"{self.name}: a bulk operation is already running and its id is unknown; "
                                      "wait for it or cancel it (bulkOperationCancel), then re-run.")
            w = self._wait_bulk(other.group(0) if other else None, poll_q, interval, timeout - waited)
            waited += w
        op = self._wait_for_done(op_id, poll_q, interval, timeout - waited)
        status = op.get("status")
        if status != "COMPLETED":
            partial = op.get("partialDataUrl")
            self.logger.warning(
                "%s: bulk operation %s ended %s (errorCode %s)%s; falling back to paged queries from the same "
                "bookmark", self.name, op_id, status, op.get("errorCode"),
                f"; its partial results ({op.get('objectCount')} rows at partialDataUrl) are not used: they are "
                "incomplete and unordered" if partial else "")
            return None
        self.logger.info("%s: bulk operation %s completed: %s rows, %s bytes", self.name, op_id,
                         op.get("objectCount"), op.get("fileSize"))
        url = op.get("url")
        return self._reassemble(client.download(url)) if url else iter(())

    def _wait_bulk(self, op_id: str | None, poll_q: str, interval: float, budget: float) -> float:
        waited = 0.0
        while waited <= budget:
            sleep(interval)
            waited += interval
            op = self._poll(op_id, poll_q)
            if not op or op.get("status") not in ("CREATED", "RUNNING", "CANCELING"):
                return waited
        raise ShopifyAPIError(f"{self.name}: bulk operation {op_id} still running after {budget:.0f} s "
                              "(setting bulk_timeout)")

    def _poll(self, op_id: str | None, poll_q: str) -> dict:
        data = self.client.execute(poll_q, {"id": op_id} if "$id" in poll_q else {}, cost=1,
                                   what=f"{self.name} bulk poll")
        return data.get("bulkOperation") or data.get("currentBulkOperation") or {}

    def _wait_for_done(self, op_id: str, poll_q: str, interval: float, budget: float) -> dict:
        waited = 0.0
        while True:
            op = self._poll(op_id, poll_q)
            if op.get("status") not in ("CREATED", "RUNNING", "CANCELING"):
                return op
            if waited > budget:
                raise ShopifyAPIError(f"{self.name}: bulk operation {op_id} did not finish within {budget:.0f} s "
                                      "(setting bulk_timeout); it keeps running on Shopify's side")
            sleep(interval)
            waited += interval

    def _reassemble(self, lines: t.Iterable[bytes]) -> t.Iterator[dict]:
        """JSONL rows -> records. With groupObjects: true a parent's children follow it, so a
        record is complete when the next top-level row arrives."""
        by_type: dict[str, dict[str, tuple]] = {}
        for path, holder, field, conn in self.nested:
            for tn in conn.typenames:
                by_type.setdefault(holder.typename, {})[tn] = (q.key_of(field), "__typename" in conn.node.fields)
        current = None
        index: dict[str, tuple[dict, str]] = {}
        for line in lines:
            if not line:
                continue
            row = parse_json(line)
            parent_id = row.pop("__parentId", None)
            if parent_id is None:
                if current is not None:
                    yield self._finish_bulk(current)
                current = row
                index = {row["id"]: (row, self.resource.node.typename)}
                for path, holder, field, conn in self.nested:
                    if path:
                        for h in _holders(row, path):
                            if h.get("id"):
                                index[h["id"]] = (h, holder.typename)
                continue
            parent, ptype = index.get(parent_id, (None, None))
            if parent is None:
                raise ShopifyAPIError(f"{self.name}: bulk row with unknown __parentId {parent_id}")
            tn = row.get("__typename")
            key, keep = by_type.get(ptype, {}).get(tn, (None, False))
            if key is None:
                raise ShopifyAPIError(f"{self.name}: bulk row of type {tn} under {ptype} is not expected")
            if not keep:
                row.pop("__typename", None)
            parent.setdefault(key, []).append(row)
        if current is not None:
            yield self._finish_bulk(current)

    def _finish_bulk(self, record: dict) -> dict:
        for path, holder, field, conn in self.nested:
            key = q.key_of(field)
            for h in _holders(record, path):
                if key not in h:
                    h[key] = []
        record["legacyResourceId"] = legacy_id(record.get("id"))
        return record

    def _emit_bulk(self, records: t.Iterator[dict], seen: set, start) -> t.Iterator[dict]:
        """Bulk rows come in the order Shopify wrote them: the bookmark moves once, at the end,
        to the newest updatedAt of the whole file."""
        newest = None
        for record in records:
            if seen and record.get("updatedAt") == start and record["id"] in seen:
                continue
            ts = record.get("updatedAt")
            if newest is None or (ts and ts > newest["updatedAt"]):
                newest = record
            yield record
        if newest is not None and self.is_sorted:
            self._boundary_ts = None
            self._boundary_ids = []
            self._checkpoint = {"id": newest["id"], "updatedAt": newest["updatedAt"]}
            self._track(self._checkpoint)
            self.record_synced(self._checkpoint, None)


def _holders(node: dict, path: tuple) -> t.Iterator[dict]:
    if not path:
        yield node
        return
    head, rest = path[0], path[1:]
    if head == "*":
        return
    value = node.get(head)
    if isinstance(value, list) and rest and rest[0] == "*":
        for item in value:
            if isinstance(item, dict):
                yield from _holders(item, rest[1:])
    elif isinstance(value, dict):
        yield from _holders(value, rest)


class LocationsStream(ShopifyStream):
    """Locations, and through them their inventory levels: both full-table (re-read every run), so
    after a complete listing each gets ACTIVATE_VERSION and the loader marks deleted the rows not
    listed (a closed location, a stale level). Sent after the listing, not before as the SDK does:
    a run that fails half-way marks nothing deleted."""

    def get_child_context(self, record: dict, context) -> dict:
        return {"location_id": record["id"]}

    @property
    def emit_activate_version_messages(self) -> bool:
        return False  # the SDK's, sent before reading; ours follow the listing (get_records)

    def get_records(self, context):
        if not self.config.get("emit_activate_version_messages", True):
            yield from super().get_records(context)
            return
        version = int(time.time() * 1000)
        for stream in (self, *self.child_streams):
            set_stream_version(stream, version)
        yield from super().get_records(context)
        # each location's levels were synced as its record went by: both listings are complete. The
        # levels' deletions go first: if the loader's guard refuses them, the locations stay as they were
        for stream in (*self.child_streams, self):
            if stream.selected:
                write_activate_version(stream, version)


class InventoryLevelsStream(ShopifyStream):
    """Inventory levels of each location (child of locations): quantities by name."""

    @property
    def emit_activate_version_messages(self) -> bool:
        return False  # the parent sends this stream's ACTIVATE_VERSION after every location's levels

    parent_stream_type = LocationsStream
    state_partitioning_keys: t.ClassVar[list] = []

    def stream_schema(self) -> dict:
        schema = super().stream_schema()
        schema["properties"]["locationId"] = {"type": ["string", "null"]}
        return schema

    def get_records(self, context):
        for record in super().get_records(context):
            record["locationId"] = context["location_id"]
            yield record
