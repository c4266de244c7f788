"""The /_sandbox/attio/ hooks tests and the demo drive, and the changes they make:

    POST mutate      {object, update, create, delete, record_ids, attribute, value}: users at work
    POST attributes  {object, api_slug, type, title, multi, fill, every, replace}: schema drift
    POST objects     {api_slug, singular_noun, plural_noun, records}: a custom object, any slug
    POST lists       {api_slug, name, parent_object, entries}: a list, any slug
    GET|POST limits  {enabled, reads_per_second}: the 100 reads/s limiter (not a fault)
    POST reset       rebuild the workspace from the current world
    GET  counts      records per object and list, notes, tasks, members, attributes per object
    GET  requests    served requests per route name (the API's counters)
    GET  truth/rows  everything a complete, current copy of the workspace holds

Each is also a plain function of the Simulator, for tests in the server's process.
Injected faults are not here: they are the sandbox's shared rules (POST /_sandbox/faults).
"""
from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any, Callable

from aiohttp import web

from . import NAME
from .data import SYSTEM_ACTOR, ObjectStore, Workspace, uid

if TYPE_CHECKING:
    from . import Simulator


# ---- the changes ------------------------------------------------------------------------------
def mutate(simulator: "Simulator", object: str = "people", *, update: int = 0, create: int = 0, delete: int = 0,
           record_ids: list | None = None, attribute: str | None = None, value: Any = None) -> dict:
    """Change records the way users do: `update` n records (the attribute's old value is closed
    with `active_until`, a new current value added), `create` n new records, `delete` n records
    (or the given `record_ids`). Returns what changed, so a test can look for it downstream."""
    ws = simulator.workspace
    st = ws.find(ws.objects, object)
    if st is None:
        raise KeyError(f"unknown object {object!r}")
    st.ensure()
    ws.mutations += 1
    r = random.Random(f"{ws.world.seed}:attio:mutate:{object}:{ws.mutations}")
    changed = {"object": st.slug, "updated": [], "created": [], "deleted": []}
    ids = list(record_ids) if record_ids else []
    for n, kind in ((update, "updated"), (delete, "deleted")):
        if n and not ids:
            pool = list(st.order)
            ids_for_kind = r.sample(pool, min(n, len(pool)))
        else:
            ids_for_kind = ids[:n] if n else []
        for rid in ids_for_kind:
            if kind == "updated":
                changed["updated"].append(_update_one(ws, st, rid, r, attribute, value))
            elif st.delete(rid):
                changed["deleted"].append(rid)
    for _ in range(create):
        changed["created"].append(_create_one(ws, st, r))
    return changed


def _update_one(ws: Workspace, st: ObjectStore, rid: str, r: random.Random, attribute: str | None,
                value: Any) -> dict:
    rec = st.get(rid)
    if rec is None:
        raise KeyError(f"unknown record {rid!r}")
    default_attr = {"people": "job_title", "companies": "description", "deals": "stage",
                    "subscriptions": "plan", "users": "user_id", "workspaces": "name"}.get(st.slug, "name")
    slug = attribute or default_attr
    a = ws.find_attr(st, slug)
    now = ws.now_stamp()
    actor = ws.actor(r.randrange(5))
    for old in rec["values"].get(slug, []):
        if old["active_until"] is None:
            old["active_until"] = now
    if a["type"] in ("select", "status"):
        choices = [o for o in a.get("_options", []) if o != value] or ["Changed"]
        title = value if value is not None else r.choice(
            [o for o in choices if o not in {v[a["type"] if a["type"] == "status" else "option"]["title"]
                                              for v in rec["values"].get(slug, [])}] or choices)
        new = ws.v(st, slug, now, actor, title=title)
        shown = title
    elif a["type"] == "text":
        shown = value if value is not None else f"Changed {ws.mutations}-{r.randint(1000, 9999)}"
        new = ws.v(st, slug, now, actor, value=shown)
    elif a["type"] in ("number", "rating"):
        shown = value if value is not None else r.randint(1, 5)
        new = ws.v(st, slug, now, actor, value=shown)
    elif a["type"] == "checkbox":
        shown = bool(value) if value is not None else True
        new = ws.v(st, slug, now, actor, value=shown)
    else:
        raise ValueError(f"mutate does not change {a['type']} attributes")
    rec["values"].setdefault(slug, []).append(new)
    st.put(rec)
    return {"record_id": rid, "attribute": slug, "value": shown}


def _create_one(ws: Workspace, st: ObjectStore, r: random.Random) -> str:
    rid = uid(ws.world.seed, "new", st.slug, ws.mutations, r.getrandbits(32))
    now = ws.now_stamp()
    actor = ws.actor(r.randrange(5))
    vals = ws.empty_values(st)
    if st.slug == "people":
        first, last = r.choice(("Ada", "Bo", "Cy", "Di")), r.choice(("Novak", "Lind", "Ortiz"))
        em = f"{first}.{last}.{ws.mutations}@newco.example".lower()
        vals["name"] = [ws.v(st, "name", now, actor, first_name=first, last_name=last, full_name=f"{first} {last}")]
        vals["email_addresses"] = [ws.v(st, "email_addresses", now, actor, original_email_address=em,
                                        email_address=em, email_domain="newco.example",
                                        email_root_domain="newco.example", email_local_specifier=em.split("@")[0])]
    elif ws.has_attr(st, "name") and ws.find_attr(st, "name")["type"] == "text":
        vals["name"] = [ws.v(st, "name", now, actor, value=f"New {st.singular} {ws.mutations}")]
    vals["created_at"] = [ws.v(st, "created_at", now, SYSTEM_ACTOR, value=now)]
    vals["created_by"] = [ws.v(st, "created_by", now, SYSTEM_ACTOR,
                               referenced_actor_type="workspace-member", referenced_actor_id=actor["id"])]
    for slug in list(vals):   # attributes added by drift get an empty list like the rest
        vals.setdefault(slug, [])
    st.put(ws.record(st, rid, now, vals))
    return rid


def add_custom_attribute(simulator: "Simulator", object: str = "companies", api_slug: str = "renewal_month",
                         type: str = "text", title: str | None = None, multi: bool = False,
                         fill: Callable[[dict], Any] | Any = None, every: int = 3, replace: bool = False) -> dict:
    """Schema drift: a workspace admin adds an attribute. Existing records get `[]`, and every
    `every`-th record gets a value (`fill(record)` or the constant `fill`). With `replace`, an
    attribute of that slug is first removed with its values: the slug comes back with a new
    type (archive and re-create, the only way an attribute's type changes in Attio)."""
    ws = simulator.workspace
    st = ws.find(ws.objects, object)
    if st is None:
        raise KeyError(f"unknown object {object!r}")
    st.ensure()
    if replace and ws.has_attr(st, api_slug):
        st.attributes = [a for a in st.attributes if a["api_slug"] != api_slug]
        for rid in list(st.order):
            rec = json.loads(st.raw[rid])
            rec["values"].pop(api_slug, None)
            st.put(rec)
    if ws.has_attr(st, api_slug):
        raise ValueError(f"attribute {api_slug!r} already exists on {object}")
    now = ws.now_stamp()
    a = ws.attr(st, api_slug, title or api_slug.replace("_", " ").capitalize(), type, multi=multi,
                created_at=now, options=("Option A", "Option B") if type in ("select", "status") else ())
    st.attributes.insert(len(st.attributes) - 2, a)   # before created_at/created_by, as Attio lists it
    actor = ws.actor(0)
    for i, rid in enumerate(list(st.order)):
        rec = json.loads(st.raw[rid])
        rec["values"][api_slug] = []
        if every and i % every == 0:
            given = fill(rec) if callable(fill) else fill
            if type in ("select", "status"):
                rec["values"][api_slug] = [ws.v(st, api_slug, now, actor, title=given or "Option A")]
            elif type == "currency":
                rec["values"][api_slug] = [ws.v(st, api_slug, now, actor,
                                                currency_value=given if given is not None else 100.0,
                                                currency_code="USD")]
            else:
                default = {"text": f"value {i}", "number": i, "checkbox": True, "rating": 3,
                           "date": "2026-01-01", "timestamp": now}.get(type, f"value {i}")
                rec["values"][api_slug] = [ws.v(st, api_slug, now, actor,
                                                value=given if given is not None else default)]
        st.put(rec)
    return ws.public_attr(a)


def add_object(simulator: "Simulator", api_slug: str, singular_noun: str | None = None, plural_noun: str | None = None,
               records: int = 3) -> dict:
    """A workspace admin creates a custom object (Attio gives it record_id, created_at and
    created_by; we add a text `name`) and `records` records named "<noun> 1", "<noun> 2", ….
    The slug is taken as given: what a tap does with any slug is the point of this hook."""
    ws = simulator.workspace
    if api_slug in ws.objects:
        raise ValueError(f"object {api_slug!r} already exists")
    singular = singular_noun or api_slug
    now = ws.now_stamp()
    st = ObjectStore(api_slug, uid(ws.world.seed, "object", api_slug), singular, plural_noun or singular, now)
    st.attributes = [ws.attr(st, "record_id", "Record ID", "text", system=True, created_at=now),
                     ws.attr(st, "name", "Name", "text", created_at=now),
                     ws.attr(st, "created_at", "Created at", "timestamp", system=True, created_at=now),
                     ws.attr(st, "created_by", "Created by", "actor-reference", system=True, created_at=now)]
    ws.objects[api_slug] = st
    actor = ws.actor(0)
    for n in range(1, records + 1):
        vals = ws.empty_values(st)
        vals["name"] = [ws.v(st, "name", now, actor, value=f"{singular} {n}")]
        vals["created_at"] = [ws.v(st, "created_at", now, SYSTEM_ACTOR, value=now)]
        vals["created_by"] = [ws.v(st, "created_by", now, SYSTEM_ACTOR,
                                   referenced_actor_type="workspace-member", referenced_actor_id=actor["id"])]
        st.put(ws.record(st, uid(ws.world.seed, "record", api_slug, n), now, vals))
    return ws.object_json(st)


def add_list(simulator: "Simulator", api_slug: str, name: str | None = None, parent_object: str = "companies",
             entries: int = 3) -> dict:
    """A user creates a list of `parent_object` records with one text attribute, `note`, and
    puts the first `entries` of those records on it. The slug is taken as given."""
    ws = simulator.workspace
    if api_slug in ws.lists:
        raise ValueError(f"list {api_slug!r} already exists")
    parent = ws.find(ws.objects, parent_object)
    if parent is None:
        raise KeyError(f"unknown object {parent_object!r}")
    parent.ensure()
    now = ws.now_stamp()
    st = ObjectStore(api_slug, uid(ws.world.seed, "list", api_slug), name or api_slug, name or api_slug, now,
                     is_list=True, parent_object=parent.slug)
    st.attributes = [ws.attr(st, "note", "Note", "text", created_at=now)]
    ws.lists[api_slug] = st
    actor = ws.actor(1)
    for n, record_id in enumerate(parent.order[:entries], start=1):
        vals = {"note": [ws.v(st, "note", now, actor, value=f"entry {n} of {st.singular}")]}
        st.put(ws.entry(st, uid(ws.world.seed, "entry", api_slug, n), record_id, now, vals))
    return ws.list_json(st)


def counts(simulator: "Simulator") -> dict:
    ws = simulator.workspace
    out = {slug: st.count() for slug, st in ws.objects.items()}
    out.update({f"list:{slug}": st.count() for slug, st in ws.lists.items()})
    out.update(notes=len(ws.notes), tasks=len(ws.tasks), workspace_members=len(ws.members),
               objects=len(ws.objects), lists=len(ws.lists),
               attributes={slug: len(st.attributes) for slug, st in ws.objects.items()})
    return out


def truth_rows(simulator: "Simulator") -> dict:
    """Every current record, entry, note, task and member exactly as served: what a complete,
    current copy of the workspace holds."""
    ws = simulator.workspace
    def served(st: ObjectStore) -> list:
        st.ensure()
        return [json.loads(st.raw[rid]) for rid in st.order]
    return {"object_definitions": [ws.object_json(st) for st in ws.objects.values()],
            "list_definitions": [ws.list_json(st) for st in ws.lists.values()],
            "objects": {slug: served(st) for slug, st in ws.objects.items()},
            "lists": {slug: served(st) for slug, st in ws.lists.items()},
            "notes": ws.notes, "tasks": ws.tasks, "workspace_members": ws.members}



def set_limits(simulator: "Simulator", enabled: bool | None = None, reads_per_second: int | None = None) -> dict:
    """Switch the 100 reads/s limiter (api.ReadLimit) or change its rate; returns the settings."""
    limit = simulator.read_limit
    if enabled is not None:
        limit.enabled = bool(enabled)
    if reads_per_second is not None:
        limit.reads_per_second = int(reads_per_second)
    return {"enabled": limit.enabled, "reads_per_second": limit.reads_per_second}


# ---- the routes -------------------------------------------------------------------------------
def add_routes(app: web.Application, simulator: "Simulator") -> None:
    prefix = f"/_sandbox/{NAME}"

    async def _call(request, fn):
        try:
            body = await request.json() if request.can_read_body else {}
            return web.json_response(fn(body))
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def do_mutate(request):
        return await _call(request, lambda b: mutate(simulator, **b))

    async def do_attr(request):
        return await _call(request, lambda b: add_custom_attribute(simulator, **b))

    async def do_object(request):
        return await _call(request, lambda b: add_object(simulator, **b))

    async def do_list(request):
        return await _call(request, lambda b: add_list(simulator, **b))

    async def do_limits(request):
        return await _call(request, lambda b: set_limits(simulator, **b))

    async def do_reset(request):
        simulator.load(simulator.world)
        return web.json_response({"reset": True})

    async def do_counts(request):
        return web.json_response(counts(simulator))

    async def do_requests(request):
        return web.json_response(dict(simulator.requests))

    async def do_truth_rows(request):
        return web.json_response(truth_rows(simulator))

    app.router.add_post(prefix + "/mutate", do_mutate)
    app.router.add_post(prefix + "/attributes", do_attr)
    app.router.add_post(prefix + "/objects", do_object)
    app.router.add_post(prefix + "/lists", do_list)
    app.router.add_get(prefix + "/limits", do_limits)
    app.router.add_post(prefix + "/limits", do_limits)
    app.router.add_post(prefix + "/reset", do_reset)
    app.router.add_get(prefix + "/counts", do_counts)
    app.router.add_get(prefix + "/requests", do_requests)
    app.router.add_get(prefix + "/truth/rows", do_truth_rows)
