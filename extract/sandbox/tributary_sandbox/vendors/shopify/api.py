"""Shopify's Admin GraphQL API: a real GraphQL endpoint (graphql-core executing Shopify's published
schema of the requested API version, cut to what is served: schema/<version>.graphql, generated
by schema_gen.py) over the shop's nodes (data.py).

Routes (API_PATH /shopify, so a tap's `api_url` is http://127.0.0.1:<port>/shopify):
  POST /shopify/admin/api/{version}/graphql.json    X-Shopify-Access-Token; query + variables
  GET  /shopify/bulk/{key}.jsonl                     bulk operation results (no auth, like a signed URL)
(the token endpoint, POST /shopify/admin/oauth/access_token, is auth.py's)

What it does like Shopify:
  * connections (connections.py) with `first`/`last` <= 250, opaque cursors, pageInfo; `query:`
    filters `updated_at` / `created_at` with >, >=, <, <=, : (and `id:>N`); sortKey + reverse
    (the filtering and ordering are the shop's: data.py's Shop.sorted_rows);
  * calculated query cost: scalars and enums 0, objects 1, connections 2 + first x node cost,
    object lists 1 x item cost (requested) - actual cost is counted on what came back;
    mutations 10; a single query above 1000 points fails MAX_COST_EXCEEDED;
  * leaky bucket per access token (Throttle: the Simulator's `maximum` and `restore_rate`,
    /_sandbox/shopify/throttle), THROTTLED (HTTP 200, errors[].extensions.code) with the cost in
    extensions, no points taken;
  * refused queries worded as Shopify's server (graphql-ruby) words them (`shopify_error`);
  * bulk operations: bulkOperationRunQuery runs the query over every node (no page limits) in a
    thread, writes JSONL with `__parentId` for nested-connection rows, and reports
    CREATED -> RUNNING -> COMPLETED over a few polls (the Simulator's `bulk_polls`); the faults
    "bulk_fail" (FAILED, with partialDataUrl) and "bulk_busy" (another operation already running:
    OPERATION_IN_PROGRESS) are claimed here, as is "throttled".
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import re
import secrets
import threading
import time
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
)
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode

from . import API_PATH, NAME
from .auth import INVALID_TOKEN_BODY
from .connections import root_connection
from .data import LOCATIONS, gid, iso, parse_gid

if TYPE_CHECKING:
    from . import Simulator

API_VERSIONS = ("2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
MAX_QUERY_COST = 1000
MUTATION_COST = 10
SCHEMA_DIR = Path(__file__).with_name("schema")   # one file per API version, generated (schema_gen.py)


@functools.lru_cache(maxsize=None)
def schema_for(version: str):
    """Shopify's schema of `version`, cut to what this simulator serves ("unstable": the newest)."""
    return build_schema((SCHEMA_DIR / f"{API_VERSIONS[-1] if version == 'unstable' else version}.graphql").read_text())


# ---- errors, as Shopify words them -------------------------------------------------------------
# graphql-core's words for a refused query -> Shopify's (its GraphQL server is graphql-ruby): the
# message and the `extensions.code` a client reads
_UNDEFINED_FIELD = re.compile(r"^Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\.")
_UNKNOWN_ARGUMENT = re.compile(r"^Unknown argument '(?P<arg>\w+)' on field '\w+\.(?P<field>\w+)'\.")
_MISSING_ARGUMENT = re.compile(r"^(?:Argument '\w+\.(?P<field>\w+)\((?P<arg>\w+):\)'"    # graphql-core 3.3
                               r"|Field '(?P<field2>\w+)' argument '(?P<arg2>\w+)') of type '[^']+' is required")  # 3.2


def shopify_error(error: GraphQLError) -> dict:
    """A refused query's error as Shopify words it."""
    out = error.formatted
    locations = {"locations": out["locations"]} if out.get("locations") else {}
    message = error.message
    if (m := _UNDEFINED_FIELD.match(message)):
        return {"message": f"Field '{m['field']}' doesn't exist on type '{m['type']}'", **locations,
                "extensions": {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]}}
    if (m := _UNKNOWN_ARGUMENT.match(message)):
        return {"message": f"Field '{m['field']}' doesn't accept argument '{m['arg']}'", **locations,
                "extensions": {"code": "argumentNotAccepted", "name": m["field"], "typeName": "Field",
                               "argumentName": m["arg"]}}
    if (m := _MISSING_ARGUMENT.match(message)):
        field, arg = m["field"] or m["field2"], m["arg"] or m["arg2"]
        return {"message": f"Field '{field}' is missing required arguments: {arg}", **locations,
                "extensions": {"code": "missingRequiredArguments", "className": "Field", "name": field,
                               "arguments": arg}}
    if message.startswith("Syntax Error"):
        where = out.get("locations") or [{"line": 1, "column": 1}]
        return {"message": f"Parse error on {message.removeprefix('Syntax Error: ')} at "
                           f"[{where[0]['line']}, {where[0]['column']}]", **locations}
    return out


RATE_LIMIT_BODY = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}
BAD_BODY = {"errors": {"query": "Required parameter missing or invalid"}}


def error_response(status: int, rule: dict) -> web.Response:
    """An injected status (a "status" fault rule) as Shopify answers it: 429 with Retry-After
    (the rule's "retry_after" seconds, default 2), 401 as for a bad token, 5xx as Internal
    Server Error; any other status with its reason phrase in Shopify's {"errors": ...}."""
    if status == 429:
        return web.json_response(RATE_LIMIT_BODY, status=429, headers={"Retry-After": str(rule.get("retry_after", 2))})
    if status == 401:
        return web.json_response(INVALID_TOKEN_BODY, status=401)
    if status == 400:
        return web.json_response(BAD_BODY, status=400)
    if status >= 500:
        return web.json_response({"errors": "Internal Server Error"}, status=status)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return web.json_response({"errors": phrase}, status=status)


_claiming = threading.Lock()   # GraphQL runs on executor threads: two requests may claim at once


def claim(simulator: "Simulator", kind: str, target: str) -> dict | None:
    """This vendor's own fault of `kind` (FAULT_KINDS), if a rule arms one for `target`."""
    with _claiming:
        return simulator.faults.claim(simulator.fault_name, kind, target)


# ---- query cost -------------------------------------------------------------------------------
def _arg(node: FieldNode, name: str, variables: dict):
    for a in node.arguments or ():
        if a.name.value == name:
            v = a.value
            if v.kind == "variable":
                return variables.get(v.name.value)
            if v.kind == "int_value":
                return int(v.value)
            return getattr(v, "value", None)
    return None


def _fields(selection_set, fragments) -> list[tuple[FieldNode, str | None]]:
    """Fields of a selection set, flattening fragments (with their type condition)."""
    out = []
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            out.append((sel, None))
        elif isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else None
            out += [(f, cond or c) for f, c in _fields(sel.selection_set, fragments)]
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments[sel.name.value]
            out += [(f, frag.type_condition.name.value) for f, c in _fields(frag.selection_set, fragments)]
    return out




def _field_def(schema, parent, name: str, cond: str | None):
    target = schema.get_type(cond) if cond else parent
    if isinstance(target, (GraphQLObjectType, GraphQLInterfaceType)):
        return target.fields.get(name)
    return None


def requested_cost(schema, selection_set, parent, variables, fragments) -> int:
    total = 0
    for node, cond in _fields(selection_set, fragments):
        if node.name.value.startswith("__"):
            continue
        fdef = _field_def(schema, parent, node.name.value, cond)
        if fdef is None:
            continue
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            continue
        if named.name.endswith("Connection"):
            size = _arg(node, "first", variables) or _arg(node, "last", variables) or 0
            per = 0
            for sub, _ in _fields(node.selection_set, fragments):
                if sub.name.value == "nodes":
                    per = max(per, 1 + requested_cost(schema, sub.selection_set, get_named_type(named.fields["nodes"].type), variables, fragments))
                elif sub.name.value == "edges":
                    edge = get_named_type(named.fields["edges"].type)
                    for e, _ in _fields(sub.selection_set, fragments):
                        if e.name.value == "node":
                            per = max(per, 1 + requested_cost(schema, e.selection_set, get_named_type(edge.fields["node"].type), variables, fragments))
            total += 2 + size * per
        else:
            inner = 1 + requested_cost(schema, node.selection_set, named, variables, fragments)
            if _is_list(fdef.type):
                inner *= _arg(node, "first", variables) or 1
            total += inner
    return total


def _is_list(t) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def actual_cost(schema, data, selection_set, parent, fragments) -> int:
    if data is None:
        return 0
    total = 0
    for node, cond in _fields(selection_set, fragments):
        key = node.alias.value if node.alias else node.name.value
        if key.startswith("__") or key not in data:
            continue
        fdef = _field_def(schema, parent, node.name.value, cond)
        if fdef is None:
            continue
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            continue
        value = data[key]
        if value is None:
            continue
        if named.name.endswith("Connection"):
            total += 2
            for sub, _ in _fields(node.selection_set, fragments):
                sk = sub.alias.value if sub.alias else sub.name.value
                if sub.name.value == "nodes":
                    nt = get_named_type(named.fields["nodes"].type)
                    total += sum(1 + actual_cost(schema, n, sub.selection_set, nt, fragments) for n in value.get(sk) or [])
                elif sub.name.value == "edges":
                    edge = get_named_type(named.fields["edges"].type)
                    nt = get_named_type(edge.fields["node"].type)
                    for e, _ in _fields(sub.selection_set, fragments):
                        if e.name.value == "node":
                            total += sum(1 + actual_cost(schema, ed.get("node"), e.selection_set, nt, fragments) for ed in value.get(sk) or [])
        elif isinstance(value, list):
            total += sum(1 + actual_cost(schema, v, node.selection_set, named, fragments) for v in value)
        else:
            total += 1 + actual_cost(schema, value, node.selection_set, named, fragments)
    return total


# ---- the throttle: a leaky bucket of cost points per access token ----------------------------
class Throttle:
    """Shopify's cost-based rate limit: each access token has a bucket of `maximum` points that
    refills at `restore_rate` points/s (real time, not the sandbox clock); a query takes its
    requested cost up front and gets back what it did not use."""

    def __init__(self, maximum: float, restore_rate: float) -> None:
        self.maximum, self.restore_rate = maximum, restore_rate
        self.buckets: dict[str, list] = {}

    def set(self, maximum: float | None = None, restore_rate: float | None = None) -> dict:
        if maximum is not None:
            self.maximum = float(maximum)
        if restore_rate is not None:
            self.restore_rate = float(restore_rate)
        self.buckets.clear()
        return {"maximumAvailable": self.maximum, "restoreRate": self.restore_rate}

    def bucket(self, token: str) -> list:
        b = self.buckets.setdefault(token, [self.maximum, time.monotonic()])
        now = time.monotonic()
        b[0] = min(self.maximum, b[0] + (now - b[1]) * self.restore_rate)
        b[1] = now
        return b

    def status(self, b: list) -> dict:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": int(b[0]), "restoreRate": self.restore_rate}


# ---- GraphQL ------------------------------------------------------------------------------------
def root(simulator: "Simulator") -> dict:
    """The query and mutation roots' resolvers, over the simulator's shop and bulk operations."""
    s = simulator.shop
    bulk = simulator.bulk

    def by_gid(kind_expected: str | None, value: str):
        p = parse_gid(value)
        if not p:
            raise GraphQLError(f"Invalid global id '{value}'")
        kind, num = p
        if kind_expected and kind != kind_expected:
            return None
        if kind == "Order" and num in s.order_by_num:
            return s.order_node(s.order_by_num[num])
        if kind == "Refund" and num in s.refund_index:
            r, k = s.refund_index[num]
            return s.refund_node(r, k)
        if kind == "Customer" and num in s.customer_num:
            return s.customer_node(s.customer_num[num])
        if kind == "Product" and (num - 8_100_000_000) in s.product_created:
            return s.product_node(num - 8_100_000_000)
        if kind == "Location" and 0 <= num - 71_000_000 < len(LOCATIONS):
            return s.location_node(num - 71_000_000)
        if kind == "AbandonedCheckout":
            for c in s.checkouts:
                if c["num"] == num:
                    return s.checkout_node(c)
        if kind == "BulkOperation" and num in bulk.ops:
            return bulk.poll(bulk.ops[num])
        return None

    def count(name):
        def resolve(info, query=None, limit=10000, **_):
            keys, _, _ = s.sorted_rows(name, None, query)
            n = len(keys)
            if limit is not None and n > limit:
                return {"count": limit, "precision": "AT_LEAST"}
            return {"count": n, "precision": "EXACT"}
        return resolve

    def conn(name):
        return lambda info, **a: root_connection(s, name, info, a)

    def current(info, type="QUERY"):
        if not bulk.ops:
            return None
        return bulk.poll(bulk.ops[max(bulk.ops)])

    return {
        "node": lambda info, id: by_gid(None, id), "order": lambda info, id: by_gid("Order", id),
        "refund": lambda info, id: by_gid("Refund", id), "customer": lambda info, id: by_gid("Customer", id),
        "product": lambda info, id: by_gid("Product", id), "location": lambda info, id=None: by_gid("Location", id),
        "bulkOperation": lambda info, id: by_gid("BulkOperation", id), "currentBulkOperation": current,
        "orders": conn("orders"), "customers": conn("customers"), "products": conn("products"),
        "productVariants": conn("productVariants"), "inventoryItems": conn("inventoryItems"),
        "locations": conn("locations"), "collections": conn("collections"),
        "abandonedCheckouts": conn("abandonedCheckouts"), "events": conn("events"),
        "ordersCount": count("orders"), "customersCount": count("customers"), "productsCount": count("products"),
        "abandonedCheckoutsCount": count("abandonedCheckouts"),
        "bulkOperationRunQuery": bulk.run,
    }


def graphql(simulator: "Simulator", body: dict, token: str, version: str = API_VERSIONS[-1],
            target: str = "") -> tuple[int, dict]:
    """Answer a GraphQL request as Shopify's `version` of the API does (`target`: the request's
    path, which fault rules may name)."""
    simulator.requests["graphql"] += 1
    schema = schema_for(version)
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        return 200, {"errors": [{"message": "No query string was present"}]}
    try:
        doc = parse(query)
    except GraphQLError as err:
        return 200, {"errors": [shopify_error(err)]}
    errors = validate(schema, doc)
    if errors:
        return 200, {"errors": [shopify_error(e) for e in errors]}
    variables = body.get("variables") or {}
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    op = ops[0] if len(ops) == 1 else next((d for d in ops if d.name and d.name.value == body.get("operationName")), None)
    if op is None:
        return 200, {"errors": [{"message": "An operation name is required"}]}
    fragments = {d.name.value: d for d in doc.definitions if d.kind == "fragment_definition"}
    is_mutation = op.operation.value == "mutation"
    root_type = schema.mutation_type if is_mutation else schema.query_type
    requested = MUTATION_COST if is_mutation else requested_cost(schema, op.selection_set, root_type, variables, fragments)
    throttle = simulator.throttle
    b = throttle.bucket(token)
    if requested > MAX_QUERY_COST:
        return 200, {"errors": [{"message": f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                                  "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST}}]}
    forced = claim(simulator, "throttled", target) is not None
    if forced or requested > b[0]:
        simulator.requests["throttled"] += 1
        return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                     "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                             "throttleStatus": throttle.status(b)}}}
    b[0] -= requested
    result = execute(schema, doc, root_value=root(simulator), context_value={"target": target},
                     variable_values=variables, operation_name=body.get("operationName"))
    out: dict = {}
    if result.errors:
        out["errors"] = [e.formatted for e in result.errors]
    out["data"] = result.data
    actual = MUTATION_COST if is_mutation else actual_cost(schema, result.data, op.selection_set, root_type, fragments)
    actual = min(actual, requested)
    b[0] = min(throttle.maximum, b[0] + requested - actual)
    simulator.cost_log.append({"requested": requested, "actual": actual})
    out["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                  "throttleStatus": throttle.status(b)}}
    return 200, out


# ---- bulk operations ---------------------------------------------------------------------------
def _flatten_bulk(node: dict, parent_id: str | None, out: list) -> None:
    """One JSONL row per node; nested connections become rows of their own with __parentId."""
    row, children = {}, []
    for k, v in node.items():
        if isinstance(v, dict) and ("edges" in v or "nodes" in v) and set(v) <= {"edges", "nodes", "pageInfo"}:
            items = v.get("nodes") if "nodes" in v else [e["node"] for e in v.get("edges") or []]
            children.append((node.get("id"), items))
        elif isinstance(v, list) and v and isinstance(v[0], dict) and any(
                isinstance(x, dict) and ("edges" in x or "nodes" in x) for item in v for x in item.values()):
            kept = []
            for item in v:
                sub_row, sub_children = {}, []
                for sk, sv in item.items():
                    if isinstance(sv, dict) and ("edges" in sv or "nodes" in sv):
                        items = sv.get("nodes") if "nodes" in sv else [e["node"] for e in sv.get("edges") or []]
                        sub_children.append((item.get("id"), items))
                    else:
                        sub_row[sk] = sv
                kept.append(sub_row)
                children += sub_children
            row[k] = kept
        else:
            row[k] = v
    if parent_id is not None:
        row["__parentId"] = parent_id
    out.append(row)
    for pid, items in children:
        for child in items:
            _flatten_bulk(child, pid, out)


class BulkOp:
    """One bulk operation: CREATED, RUNNING while its worker thread writes the JSONL, then the
    worker's outcome (`final`) once it is done and has been polled `min_polls` times."""

    def __init__(self, num: int, query: str, created: dt.datetime) -> None:
        self.num, self.query, self.created = num, query, created
        self.status, self.error, self.url, self.partial_url = "CREATED", None, None, None
        self.objects = self.roots = self.size = 0
        self.completed = None
        self.polls = 0
        self.done = threading.Event()
        self.min_polls = 2
        self.busy_polls: int | None = None   # another app's operation (start_busy): done after this many polls

    def node(self) -> dict:
        return {"__typename": "BulkOperation", "id": gid("BulkOperation", self.num), "status": self.status,
                "type": "QUERY", "query": self.query, "errorCode": self.error, "createdAt": iso(self.created),
                "completedAt": iso(self.completed), "objectCount": str(self.objects), "rootObjectCount": str(self.roots),
                "fileSize": str(self.size) if self.url else None, "url": self.url, "partialDataUrl": self.partial_url}


class BulkOperations:
    """The shop's bulk operations (one at a time, as Shopify allows per app and shop) and the
    JSONL files they wrote, served at /shopify/bulk/<key>.jsonl."""

    def __init__(self, simulator: "Simulator") -> None:
        self.simulator = simulator
        self.ops: dict[int, BulkOp] = {}
        self.seq = 4_200_000_000
        self.files: dict[str, Path] = {}

    def new_op(self, query: str) -> BulkOp:
        self.seq += 1
        op = BulkOp(self.seq, query, self.simulator.clock.now())
        op.min_polls = int(self.simulator.bulk_polls)
        self.ops[op.num] = op
        return op

    def start_busy(self, polls: int) -> None:
        """Another app's operation, RUNNING until it has been polled `polls` times (the "bulk_busy" fault)."""
        op = self.new_op("{ products { edges { node { id } } } }")
        op.status = "RUNNING"
        op.min_polls = 10 ** 9          # finishes when its polls run out (see poll)
        op.busy_polls = polls

    def run(self, info, query: str, groupObjects: bool = False) -> dict:
        """bulkOperationRunQuery."""
        sim, target = self.simulator, info.context.get("target", "")
        busy = claim(sim, "bulk_busy", target)
        if busy is not None:
            self.start_busy(int(busy.get("polls", 3)))
        running = [op for op in self.ops.values() if op.status in ("CREATED", "RUNNING")]
        if running:
            return {"bulkOperation": None, "userErrors": [{
                "code": "OPERATION_IN_PROGRESS", "field": None,
                "message": f"A bulk query operation for this app and shop is already in progress: {gid('BulkOperation', running[0].num)}."}]}
        try:
            doc = parse(query)
        except GraphQLError as err:
            return {"bulkOperation": None, "userErrors": [{"code": "INVALID", "field": ["query"], "message": f"Invalid bulk query: {err.message}"}]}
        errors = validate(info.schema, doc)   # the version the bulk operation was started with
        if errors:
            return {"bulkOperation": None, "userErrors": [{"code": "INVALID", "field": ["query"], "message": f"Invalid bulk query: {shopify_error(errors[0])['message']}"}]}
        op = self.new_op(query)
        sim.requests["bulk_runs"] += 1
        fail = claim(sim, "bulk_fail", target) is not None
        threading.Thread(target=self._worker, args=(op, doc, fail, info.schema), daemon=True).start()
        return {"bulkOperation": op.node(), "userErrors": []}

    def _worker(self, op: BulkOp, doc, fail: bool, schema) -> None:
        """Run the query over every node, in windows of `chunk` roots; `fail`: stop after 3 roots, FAILED."""
        sim = self.simulator
        op.status = "RUNNING"
        key = secrets.token_hex(8)
        path = sim.bulk_dir / f"{key}.jsonl"
        objects = roots = 0
        chunk = 2000
        try:
            with open(path, "w") as fh:
                start = 0
                while True:
                    result = execute(schema, doc, root_value=root(sim),
                                     context_value={"bulk": True, "bulk_window": (start, chunk)})
                    if result.errors:
                        raise RuntimeError(result.errors[0].message)
                    conn = next(iter(result.data.values()))
                    nodes = conn.get("nodes") if "nodes" in conn else [e["node"] for e in conn.get("edges") or []]
                    for n in nodes:
                        rows: list = []
                        _flatten_bulk(n, None, rows)
                        for row in rows:
                            fh.write(json.dumps(row, separators=(",", ":")))
                            fh.write("\n")
                        objects += len(rows)
                        roots += 1
                        if fail and roots >= 3:
                            raise RuntimeError("injected failure")
                    if len(nodes) < chunk:
                        break
                    start += chunk
            op.objects, op.roots, op.size = objects, roots, path.stat().st_size
            self.files[key] = path
            op.url = f"{sim.base_url}{API_PATH}/bulk/{key}.jsonl"
            op.final = "COMPLETED"
        except Exception:   # noqa: BLE001 - a failed job is reported through the API, as Shopify does
            op.objects, op.roots = objects, roots
            if path.exists() and path.stat().st_size:
                self.files[key] = path
                op.partial_url = f"{sim.base_url}{API_PATH}/bulk/{key}.jsonl"
            op.error, op.final = "INTERNAL_SERVER_ERROR", "FAILED"
        op.done.set()

    def poll(self, op: BulkOp) -> dict:
        """The operation's node as a poll sees it (bulkOperation(id:), currentBulkOperation)."""
        op.polls += 1
        now = self.simulator.clock.now
        if op.busy_polls is not None:
            if op.polls >= op.busy_polls:
                op.status, op.completed, op.url = "COMPLETED", now(), None
            return op.node()
        if op.done.is_set() and op.polls >= op.min_polls and op.status in ("CREATED", "RUNNING"):
            op.status, op.completed = op.final, now()
        return op.node()


# ---- routes ---------------------------------------------------------------------------------------
def add_routes(app: web.Application, simulator: "Simulator") -> None:
    async def graphql_route(request: web.Request) -> web.StreamResponse:
        # Bulk files are served beside this endpoint: under /instances/<name>/ for another shop.
        simulator.base_url = f"{request.scheme}://{request.host}{request.path[:request.path.index(API_PATH + '/admin/')]}"
        version = request.match_info["version"]
        if version not in API_VERSIONS and version != "unstable":
            return web.json_response({"errors": "Not Found"}, status=404)
        token = request.headers.get("X-Shopify-Access-Token")
        if not simulator.tokens.ok(token):
            return web.json_response(INVALID_TOKEN_BODY, status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response(BAD_BODY, status=400)
        if not isinstance(body, dict):
            return web.json_response(BAD_BODY, status=400)
        status, out = await asyncio.get_running_loop().run_in_executor(
            None, graphql, simulator, body, token, version, request.path_qs)
        return web.Response(status=status, body=json.dumps(out, separators=(",", ":")).encode(),
                            content_type="application/json",
                            headers={"X-Shopify-API-Version": version if version in API_VERSIONS else API_VERSIONS[-1]})

    async def bulk_file(request: web.Request) -> web.StreamResponse:
        path = simulator.bulk.files.get(request.match_info["key"])
        if path is None or not path.exists():
            return web.Response(status=404, text="<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code></Error>",
                                content_type="application/xml")
        simulator.requests["bulk_download"] += 1
        return web.FileResponse(path, headers={"Content-Type": "application/jsonl"})

    app.router.add_post(API_PATH + "/admin/api/{version}/graphql.json", graphql_route)
    app.router.add_get(API_PATH + "/bulk/{key}.jsonl", bulk_file)
