"""Attio's REST API v2, under /attio/v2 (bearer `sandbox-attio-api-key`, auth.py):

  GET  /self, /objects, /objects/{object}, /objects/{object}/attributes
  POST /objects/{object}/records/query        (filter/sorts/limit/offset, limit <= 500; keyset
                                               paging by created_at $gte is bisected)
  GET  /objects/{object}/records/{record_id}
  GET  /lists, /lists/{list}, /lists/{list}/attributes
  POST /lists/{list}/entries/query
  GET  /notes?limit&offset (limit <= 50), /tasks?limit&offset (limit <= 500)
  GET  /notes/{id}, /tasks/{id}, /workspace_members, /workspace_members/{id}

Everything an Attio client has to survive, worded as Attio words it: 401 with Attio's error
body, 400 validation errors, 404/405 for unknown routes, and a 100 reads/s limit answering 429
with `Retry-After` as an HTTP date (ReadLimit, switched by the control hook /_sandbox/attio/limits).
Injected faults (faults.py) are answered by error_response.
"""
from __future__ import annotations

import bisect
import collections
import datetime as dt
import email.utils
import http
import json
import math
import time
from typing import TYPE_CHECKING, Any, Callable

from aiohttp import web

from . import API_PATH, auth
from .data import WORKSPACE_SLUG, ObjectStore, Workspace, parse_stamp, uid

if TYPE_CHECKING:
    from . import Simulator

RECORDS_MAX_LIMIT = 500   # records/entries query: docs give default 500; larger is refused here
NOTES_MAX_LIMIT = 50      # notes: documented default 10, maximum 50
TASKS_MAX_LIMIT = 500     # tasks: documented default 500
READS_PER_SECOND = 100    # Attio's published read limit


# ---- Attio's errors ---------------------------------------------------------------------------
def error_body(status: int, type_: str, code: str, message: str) -> dict:
    return {"status_code": status, "type": type_, "code": code, "message": message}


def json_error(status: int, type_: str, code: str, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response(error_body(status, type_, code, message), status=status, headers=headers)


def retry_after(seconds: float) -> str:
    """Attio's Retry-After: an HTTP date (whole seconds, so rounded up)."""
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    when = when.replace(microsecond=0) + dt.timedelta(seconds=1 if when.microsecond else 0)
    return email.utils.format_datetime(when, usegmt=True)


def rate_limited(message: str, seconds: float) -> web.Response:
    return json_error(429, "rate_limit_error", "rate_limit_exceeded", message,
                      headers={"Retry-After": retry_after(seconds)})


def error_response(status: int, rule: dict) -> web.Response:
    """An injected status fault, as Attio answers it: a 429 is its rate_limit_error with a
    Retry-After date `rule["retry_after"]` seconds ahead (default 1), a 5xx its api_error, a 401
    its auth_error, any other 4xx an invalid_request_error named after the status."""
    if status == 429:
        return rate_limited("Rate limit exceeded, please try again later", float(rule.get("retry_after", 1)))
    if status >= 500:
        return json_error(status, "api_error", "internal_server_error", "An unexpected error occurred.")
    if status == 401:
        return json_error(401, "auth_error", *auth.unauthorized())
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = f"HTTP {status}"
    return json_error(status, "invalid_request_error", phrase.lower().replace(" ", "_").replace("-", "_"),
                      f"{phrase} (injected fault).")


# ---- the 100 reads/s limit --------------------------------------------------------------------
class ReadLimit:
    """Attio's read limit, over a sliding second of real time (not the sandbox clock: it guards
    against real bursts). A setting, not a fault: control.set_limits switches it."""

    def __init__(self, enabled: bool = True, reads_per_second: int = READS_PER_SECOND) -> None:
        self.enabled, self.reads_per_second = enabled, reads_per_second
        self._window: collections.deque = collections.deque()

    def wait(self) -> float:
        """Seconds until a read is allowed again (0 = allowed now); records the read."""
        if not self.enabled:
            return 0.0
        now = time.monotonic()
        win = self._window
        while win and now - win[0] >= 1.0:
            win.popleft()
        if len(win) >= self.reads_per_second:
            return 1.0 - (now - win[0])
        win.append(now)
        return 0.0


def make_middleware(simulator: "Simulator"):
    """Before any Attio route: the API key, then the read limit. Unknown routes and methods get
    Attio's 404/405 bodies instead of aiohttp's."""
    @web.middleware
    async def attio_middleware(request: web.Request, handler):
        api_path = simulator.mounted_at + API_PATH
        if not request.path.startswith(api_path + "/") and request.path != api_path:
            return await handler(request)
        refused = auth.refusal(request, simulator.api_keys)
        if refused:
            return json_error(401, "auth_error", *refused)
        limit = simulator.read_limit
        wait = limit.wait()
        if wait > 0:
            return rate_limited(f"Rate limit of {limit.reads_per_second} read requests per second exceeded", wait)
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return json_error(404, "invalid_request_error", "not_found",
                              f"No route for {request.method} {request.path}.")
        except web.HTTPMethodNotAllowed:
            return json_error(405, "invalid_request_error", "method_not_allowed",
                              f"{request.method} is not allowed on {request.path}.")
    return attio_middleware


# ---- paging, filters, sorts -------------------------------------------------------------------
def _page(raws: list) -> web.Response:
    body = b'{"data":[' + b",".join(raws) + b"]}"
    return web.Response(body=body, content_type="application/json")


def _int_param(value: Any, name: str, default: int, maximum: int | None) -> int:
    if value is None:
        return default
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number") from None
    if not math.isfinite(f) or f != int(f) or f < 0:
        raise ValueError(f"{name} must be a non-negative integer")
    if maximum is not None and f > maximum:
        raise ValueError(f"{name} must be less than or equal to {maximum}")
    return int(f)


def _validation(message: str) -> web.Response:
    return json_error(400, "invalid_request_error", "validation_type", f"Body payload validation error: {message}")


def _not_found(what: str, key: str) -> web.Response:
    return json_error(404, "invalid_request_error", "not_found", f'{what} with slug/ID "{key}" not found.')


async def _body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("body must be an object")
    return body


def _query(st: ObjectStore, body: dict) -> list:
    """Apply the subset of Attio filters/sorts this sandbox understands; return raw records."""
    st.ensure()
    flt = body.get("filter") or {}
    sorts = body.get("sorts") or []
    if not isinstance(sorts, list):
        raise ValueError("sorts must be an array")
    if not isinstance(flt, dict):
        raise ValueError("filter must be an object")
    ids = st.order
    # Keyset paging (created_at >= the last row seen, sorted by created_at) asks a new filter on
    # every page: the rest of the filter is applied and sorted once, the bound found by bisection.
    rest, lower = (_split_created_lower_bound(flt) if [(s.get("attribute"), s.get("direction", "asc"))
                                                        for s in sorts] == [("created_at", "asc")] else (flt, None))
    if rest or sorts:
        spec = json.dumps([rest, sorts], sort_keys=True)
        hit = st.sorted_cache.get(spec)
        if hit and hit[0] == st.version:
            ids = hit[1]       # paging through the same query: filter and sort once, not per page
        else:
            if rest:
                ids = [rid for rid in ids if _match(st, rid, rest)]
            for s in reversed(sorts):
                attr = s.get("attribute") or s.get("path")
                if attr not in ("created_at", "record_id", "entry_id"):
                    raise ValueError(f"sorting by {attr!r} is not supported by the sandbox")
                if s.get("direction", "asc") not in ("asc", "desc"):
                    raise ValueError("direction must be 'asc' or 'desc'")
                key = (lambda rid: (st.created[rid], rid)) if attr == "created_at" else (lambda rid: rid)
                ids = sorted(ids, key=key, reverse=s.get("direction") == "desc")
            hit = (st.version, ids, {})
            st.sorted_cache = {spec: hit}
        if lower is not None:
            if "stamps" not in hit[2]:  # once per query, not per page
                hit[2]["stamps"] = [parse_stamp(st.created[rid]) for rid in ids]
            stamps = hit[2]["stamps"]
            ids = ids[bisect.bisect_left(stamps, parse_stamp(lower)):]
    limit = _int_param(body.get("limit"), "limit", RECORDS_MAX_LIMIT, RECORDS_MAX_LIMIT)
    offset = _int_param(body.get("offset"), "offset", 0, None)
    return [st.raw[rid] for rid in ids[offset:offset + limit]]


def _split_created_lower_bound(flt: dict) -> tuple[dict, str | None]:
    """A filter as (the rest, the created_at `$gte` bound) when it is or ends in such a bound."""
    def bound(cond: Any) -> str | None:
        if isinstance(cond, dict) and list(cond) == ["created_at"] and isinstance(cond["created_at"], dict) \
                and list(cond["created_at"]) == ["$gte"]:
            return cond["created_at"]["$gte"]
        return None
    if (lower := bound(flt)) is not None:
        return {}, lower
    parts = flt.get("$and") if list(flt) == ["$and"] else None
    if isinstance(parts, list) and parts and (lower := bound(parts[-1])) is not None:
        rest = parts[:-1]
        return (rest[0] if len(rest) == 1 else {"$and": rest}) if rest else {}, lower
    return flt, None


def _match(st: ObjectStore, rid: str, flt: dict) -> bool:
    for key, cond in flt.items():
        if key == "$and":
            if not all(_match(st, rid, c) for c in cond):
                return False
            continue
        if key == "created_at" and isinstance(cond, dict):
            have = parse_stamp(st.created[rid])
            for op, val in cond.items():
                want = parse_stamp(val)
                ok = {"$gte": have >= want, "$gt": have > want, "$lte": have <= want, "$lt": have < want,
                      "$eq": have == want}.get(op)
                if ok is None:
                    raise ValueError(f"unsupported operator {op!r}")
                if not ok:
                    return False
            continue
        if key == "record_id":
            if rid != (cond.get("$eq") if isinstance(cond, dict) else cond):
                return False
            continue
        raise ValueError(f"filtering on {key!r} is not supported by the sandbox")
    return True


# ---- the routes -------------------------------------------------------------------------------
def add_routes(app: web.Application, simulator: "Simulator") -> None:
    """Mount the Attio v2 API under API_PATH, with its middleware (auth, read limit, 404/405)."""
    app.middlewares.append(make_middleware(simulator))
    r = app.router

    def count(name: str) -> Workspace:
        """Count a request to route `name` (GET /_sandbox/attio/requests); the workspace it reads."""
        simulator.requests[name] += 1
        return simulator.workspace

    async def self_(request):
        st = count("self")
        return web.json_response({
            "active": True, "scope": "record_permission:read object_configuration:read note:read task:read "
                                     "list_entry:read list_configuration:read user_management:read",
            "client_id": uid(st.world.seed, "client"), "token_type": "Bearer", "exp": None, "iat": 1700000000,
            "sub": st.workspace_id, "aud": uid(st.world.seed, "client"), "iss": "attio.com", "token_level": "workspace",
            "authorized_by_workspace_member_id": st.member_ids[0], "workspace_id": st.workspace_id,
            "workspace_name": simulator.workspace_name, "workspace_slug": WORKSPACE_SLUG, "workspace_logo_url": None})

    async def objects(request):
        st = count("objects")
        return web.json_response({"data": [st.object_json(o) for o in st.objects.values()]})

    def container_handlers(kind: str, label: str, counters: tuple[str, str, str]):
        """GET one, GET its attributes and POST a query: the same for an object (its records) and
        a list (its entries). `kind` is the path parameter ("object" / "list"), `label` what a 404
        names, `counters` the request counters of the three (tests read them by these names)."""
        one_counter, attributes_counter, query_counter = counters

        def find(request, counter: str):
            st = count(counter)
            return st, st.find(st.objects if kind == "object" else st.lists, request.match_info[kind])

        async def one(request):
            st, found = find(request, one_counter)
            if found is None:
                return _not_found(label, request.match_info[kind])
            return web.json_response({"data": st.object_json(found) if kind == "object" else st.list_json(found)})

        async def attributes(request):
            st, found = find(request, attributes_counter)
            if found is None:
                return _not_found(label, request.match_info[kind])
            return web.json_response({"data": [st.public_attr(a) for a in found.attributes]})

        async def query(request):
            _, found = find(request, query_counter)
            if found is None:
                return _not_found(label, request.match_info[kind])
            try:
                return _page(_query(found, await _body(request)))
            except ValueError as exc:
                return _validation(str(exc))

        return one, attributes, query

    one_object, attributes, records_query = container_handlers("object", "Object",
                                                               ("object", "attributes", "records_query"))
    one_list, list_attributes, entries_query = container_handlers("list", "List",
                                                                  ("list", "list_attributes", "entries_query"))

    async def record(request):
        st = count("record")
        o = st.find(st.objects, request.match_info["object"])
        if o is None:
            return _not_found("Object", request.match_info["object"])
        o.ensure()
        raw = o.raw.get(request.match_info["record_id"])
        if raw is None:
            return _not_found("Record", request.match_info["record_id"])
        return web.Response(body=b'{"data":' + raw + b"}", content_type="application/json")

    async def lists(request):
        st = count("lists")
        return web.json_response({"data": [st.list_json(li) for li in st.lists.values()]})

    def _get_page(items: list, request, default: int, maximum: int) -> web.Response:
        try:
            limit = _int_param(request.query.get("limit"), "limit", default, maximum)
            offset = _int_param(request.query.get("offset"), "offset", 0, None)
        except ValueError as exc:
            return json_error(400, "invalid_request_error", "validation_type", f"Query validation error: {exc}")
        return web.json_response({"data": items[offset:offset + limit]})

    async def notes(request):
        st = count("notes")
        return _get_page(st.notes, request, 10, NOTES_MAX_LIMIT)

    async def tasks(request):
        st = count("tasks")
        items = st.tasks
        if request.query.get("sort") == "created_at:desc":
            items = items[::-1]
        return _get_page(items, request, 500, TASKS_MAX_LIMIT)

    async def members(request):
        st = count("workspace_members")
        return web.json_response({"data": st.members})

    def one_by_id(counter: str, items: Callable[[Workspace], list], id_key: str, label: str):
        """GET one note, task or workspace member by its id."""
        async def handler(request):
            st = count(counter)
            wanted = request.match_info[id_key]
            found = next((item for item in items(st) if item["id"][id_key] == wanted), None)
            return _not_found(label, wanted) if found is None else web.json_response({"data": found})
        return handler

    r.add_get(API_PATH + "/self", self_)
    r.add_get(API_PATH + "/objects", objects)
    r.add_get(API_PATH + "/objects/{object}", one_object)
    r.add_get(API_PATH + "/objects/{object}/attributes", attributes)
    r.add_post(API_PATH + "/objects/{object}/records/query", records_query)
    r.add_get(API_PATH + "/objects/{object}/records/{record_id}", record)
    r.add_get(API_PATH + "/lists", lists)
    r.add_get(API_PATH + "/lists/{list}", one_list)
    r.add_get(API_PATH + "/lists/{list}/attributes", list_attributes)
    r.add_post(API_PATH + "/lists/{list}/entries/query", entries_query)
    r.add_get(API_PATH + "/notes", notes)
    r.add_get(API_PATH + "/notes/{note_id}", one_by_id("note", lambda st: st.notes, "note_id", "Note"))
    r.add_get(API_PATH + "/tasks", tasks)
    r.add_get(API_PATH + "/tasks/{task_id}", one_by_id("task", lambda st: st.tasks, "task_id", "Task"))
    r.add_get(API_PATH + "/workspace_members", members)
    r.add_get(API_PATH + "/workspace_members/{workspace_member_id}",
              one_by_id("workspace_member", lambda st: st.members, "workspace_member_id", "Workspace member"))
