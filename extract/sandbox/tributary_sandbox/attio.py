"""Attio REST API v2, simulated over the shared world (`world.py`).

What it serves (under `/attio/v2`, bearer `sandbox-attio-api-key`):
  GET  /self, /objects, /objects/{object}, /objects/{object}/attributes
  POST /objects/{object}/records/query        (filter/sorts/limit/offset, limit <= 500; keyset
                                               paging by created_at $gte is bisected)
  GET  /objects/{object}/records/{record_id}
  GET  /lists, /lists/{list}, /lists/{list}/attributes
  POST /lists/{list}/entries/query
  GET  /notes?limit&offset (limit <= 50), /tasks?limit&offset (limit <= 500)
  GET  /workspace_members

Records look like Attio's: `id{workspace_id,object_id,record_id}`, `created_at` with nine
fractional digits, `web_url`, and `values` where every attribute maps to a list of value objects
(`active_until` null = current; renamed companies and moved deals keep their old value with
`active_until` set). The companies and people are the world's, with the CRM's own mess
(product-subdomain domains, upper-cased e-mails, missing titles and phones).

Everything an Attio client has to survive is here too: 401 with Attio's error body, a 100
reads/s limit answering 429 with `Retry-After` as an HTTP date, and a fault knob (N 429s, N 5xx,
N dropped connections). Control hooks (plain functions, also mountable as routes with
`add_control_routes`): `mutate` (update/create/delete records), `add_custom_attribute` (schema
drift), `add_object` and `add_list` (a custom object or list, any slug), `set_faults`, `reset`,
`counts`, `truth_rows`.

Serving is built for volume: each record is serialised once and pages are joined bytes, so a
benchmark measures the client, not this server.
"""
from __future__ import annotations

import asyncio
import bisect
import collections
import datetime as dt
import email.utils
import hashlib
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from .world import SERVICES, World, attio_company_id, attio_person_id

PREFIX = "/attio/v2"
API_KEY = "sandbox-attio-api-key"
WORKSPACE_SLUG = "tributary"
RECORDS_MAX_LIMIT = 500   # records/entries query: docs give default 500; larger is refused here
NOTES_MAX_LIMIT = 50      # notes: documented default 10, maximum 50
TASKS_MAX_LIMIT = 500     # tasks: documented default 500
READS_PER_SECOND = 100    # Attio's published read limit

SYSTEM_ACTOR = {"type": "system", "id": None}


# ---- small helpers ----------------------------------------------------------------------------
def uid(seed: int, *parts: Any) -> str:
    """A stable UUID-shaped id from the seed and a path of names (version-4 layout)."""
    h = hashlib.blake2b(":".join(str(p) for p in (seed, "attio", *parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def stamp(moment: dt.datetime, salt: str = "") -> str:
    """Attio's timestamp: UTC, nine fractional digits. The nanoseconds come from `salt`
    (world moments are whole seconds), so equal salts give equal stamps."""
    moment = moment.astimezone(dt.timezone.utc)
    if moment.microsecond:
        frac = f"{moment.microsecond:06d}000"
    else:
        frac = f"{int(hashlib.md5(salt.encode()).hexdigest()[:8], 16) % 1_000_000_000:09d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


def parse_stamp(text: str) -> dt.datetime:
    text = text.strip().replace("Z", "+00:00")
    if "." in text:  # fromisoformat in 3.11 takes at most 6 fractional digits
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment


def error_body(status: int, type_: str, code: str, message: str) -> dict:
    return {"status_code": status, "type": type_, "code": code, "message": message}


def json_error(status: int, type_: str, code: str, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response(error_body(status, type_, code, message), status=status, headers=headers)


def _at(day: dt.date, seconds: int = 17 * 3600) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)


# ---- model --------------------------------------------------------------------------------------
@dataclass
class ObjectStore:
    """One object's (or list's) attributes and records, kept serialised."""
    slug: str
    object_id: str
    singular: str
    plural: str
    created_at: str
    attributes: list = field(default_factory=list)           # attribute definitions (API JSON)
    builder: Callable[[], list] | None = None                  # lazily makes the initial records
    order: list = field(default_factory=list)                  # record ids, in created order
    raw: dict = field(default_factory=dict)                    # record id -> bytes
    created: dict = field(default_factory=dict)                # record id -> created_at string
    is_list: bool = False
    parent_object: str | None = None                           # lists only
    version: int = 0                                           # bumped when the id set changes
    sorted_cache: dict = field(default_factory=dict)           # sorts spec -> (version, ids)

    def ensure(self) -> None:
        if self.builder is None:
            return
        build, self.builder = self.builder, None
        for rec in build():
            self.put(rec)

    def put(self, rec: dict) -> None:
        rid = rec["id"]["entry_id" if self.is_list else "record_id"]
        if rid not in self.raw:
            self.order.append(rid)
            self.version += 1
        self.raw[rid] = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()
        self.created[rid] = rec["created_at"]

    def get(self, rid: str) -> dict | None:
        self.ensure()
        raw = self.raw.get(rid)
        return None if raw is None else json.loads(raw)

    def delete(self, rid: str) -> bool:
        self.ensure()
        if rid not in self.raw:
            return False
        del self.raw[rid]
        del self.created[rid]
        self.order.remove(rid)
        self.version += 1
        return True

    def count(self) -> int:
        self.ensure()
        return len(self.order)


class AttioSandbox:
    """The simulated workspace: objects, lists, notes, tasks, members, faults and limits."""

    def __init__(self, world: World, clock: Any = None) -> None:
        self.clock = clock
        self.load(world)

    def load(self, world: World) -> None:
        """(Re)build the workspace from `world`: mutations, drift, faults and counters are dropped.
        The app's reset calls this with its freshly built world."""
        self.world = world
        self.api_keys = {API_KEY}
        self.faults = {"rate_limit": 0, "server_error": 0, "drop": 0, "retry_after_seconds": 1}
        self.rate_limit_enabled = True
        self.reads_per_second = READS_PER_SECOND
        self._window: collections.deque = collections.deque()
        self.requests: collections.Counter = collections.Counter()   # route name -> count
        self.mutations = 0
        self._build()

    # -- clock -------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        if self.clock is not None:
            return self.clock.now()
        return dt.datetime.now(dt.timezone.utc)

    def now_stamp(self) -> str:
        n = self.now()
        return n.strftime("%Y-%m-%dT%H:%M:%S.") + f"{n.microsecond:06d}{time.perf_counter_ns() % 1000:03d}Z"

    # -- build ---------------------------------------------------------------------------------
    def _build(self) -> None:
        w = self.world
        s = w.seed
        self.workspace_id = uid(s, "workspace")
        self.ws_created = stamp(_at(w.start, 9 * 3600), "ws")
        self.members = []
        people = [("Maya", "Brooks", "admin"), ("Theo", "Ramirez", "member"), ("Priya", "Shah", "member"),
                  ("Jack", "Okafor", "member"), ("Lena", "Fischer", "member"), ("Omar", "Haddad", "suspended")]
        for i, (first, last, access) in enumerate(people):
            self.members.append({
                "id": {"workspace_id": self.workspace_id, "workspace_member_id": uid(s, "member", i)},
                "first_name": first, "last_name": last, "avatar_url": None,
                "email_address": f"{first.lower()}@{WORKSPACE_SLUG}.example",
                "created_at": stamp(_at(w.start + dt.timedelta(days=i * 11), 10 * 3600), f"m{i}"),
                "access_level": access,
            })
        self.member_ids = [m["id"]["workspace_member_id"] for m in self.members[:5]]
        self.objects: dict[str, ObjectStore] = {}
        self.lists: dict[str, ObjectStore] = {}
        for slug, singular, plural, builder in (
            ("companies", "Company", "Companies", self._companies),
            ("people", "Person", "People", self._people),
            ("deals", "Deal", "Deals", self._deals),
            ("users", "User", "Users", self._users),
            ("workspaces", "Workspace", "Workspaces", self._workspaces),
            ("subscriptions", "Subscription", "Subscriptions", self._subscriptions),
        ):
            store = ObjectStore(slug, uid(s, "object", slug), singular, plural,
                                stamp(_at(w.start, 9 * 3600), slug))
            store.attributes = self._object_attributes(store)
            store.builder = builder
            self.objects[slug] = store
        for slug, name, parent, builder in (
            ("sales_pipeline", "Sales pipeline", "deals", self._pipeline_entries),
            ("key_accounts", "Key accounts", "companies", self._key_account_entries),
        ):
            store = ObjectStore(slug, uid(s, "list", slug), name, name, stamp(_at(w.start, 9 * 3600), slug),
                                is_list=True, parent_object=parent)
            store.attributes = self._list_attributes(store)
            store.builder = builder
            self.lists[slug] = store
        self._notes: list | None = None
        self._tasks: list | None = None

    def actor(self, i: int) -> dict:
        return {"type": "workspace-member", "id": self.member_ids[i % len(self.member_ids)]}

    # -- attribute definitions -------------------------------------------------------------------
    def attr(self, store: ObjectStore, slug: str, title: str, type_: str, *, multi: bool = False,
             system: bool = False, options: tuple = (), target: str | None = None,
             created_at: str | None = None) -> dict:
        # Attio documents an attribute's id with `object_id` for a list's attributes too (holding
        # the list's id): its OpenAPI document has no other shape, and its SDK refuses `list_id`
        a = {
            "id": {"workspace_id": self.workspace_id, "object_id": store.object_id,
                   "attribute_id": uid(self.world.seed, "attr", store.slug, slug)},
            "title": title, "description": None, "api_slug": slug, "type": type_,
            "is_system_attribute": system, "is_writable": slug not in ("record_id", "created_at", "created_by"),
            "is_required": False, "is_unique": slug in ("record_id", "domains", "email_addresses"),
            "is_multiselect": multi, "is_default_value_enabled": False, "is_archived": False,
            "default_value": None, "relationship": None,
            "created_at": created_at or store.created_at,
            "config": {"currency": {"default_currency_code": "USD" if type_ == "currency" else None,
                                    "display_type": "symbol" if type_ == "currency" else None},
                       "record_reference": {"allowed_object_ids":
                                            [uid(self.world.seed, "object", target)] if target else None}},
        }
        if options:
            a["_options"] = list(options)   # internal: select/status choices (stripped on output)
        return a

    def _object_attributes(self, store: ObjectStore) -> list:
        A = lambda *a, **k: self.attr(store, *a, **k)  # noqa: E731
        common_head = [A("record_id", "Record ID", "text", system=True)]
        common_tail = [A("created_at", "Created at", "timestamp", system=True),
                       A("created_by", "Created by", "actor-reference", system=True)]
        if store.slug == "companies":
            body = [A("name", "Name", "text", system=True),
                    A("domains", "Domains", "domain", multi=True, system=True),
                    A("description", "Description", "text", system=True),
                    A("team", "Team", "record-reference", multi=True, system=True, target="people"),
                    A("categories", "Categories", "select", multi=True, system=True,
                      options=("B2B", "SaaS", "Retail", "Logistics", "Health", "Food & Beverage")),
                    A("primary_location", "Primary location", "location", system=True),
                    A("employee_range", "Employee range", "select", system=True,
                      options=("1-10", "11-50", "51-250", "251-1K")),
                    A("foundation_date", "Foundation date", "date", system=True),
                    A("twitter", "Twitter", "text", system=True),
                    A("last_interaction", "Last interaction", "interaction", system=True),
                    # custom attributes of this workspace
                    A("customer_tier", "Customer tier", "select", options=("Gold", "Silver", "Bronze")),
                    A("health_score", "Health score", "rating"),
                    A("arr", "ARR", "currency")]
        elif store.slug == "people":
            body = [A("name", "Name", "personal-name", system=True),
                    A("email_addresses", "Email addresses", "email-address", multi=True, system=True),
                    A("phone_numbers", "Phone numbers", "phone-number", multi=True, system=True),
                    A("company", "Company", "record-reference", system=True, target="companies"),
                    A("job_title", "Job title", "text", system=True),
                    A("description", "Description", "text", system=True),
                    A("primary_location", "Primary location", "location", system=True),
                    A("last_interaction", "Last interaction", "interaction", system=True),
                    A("lead_source", "Lead source", "select",
                      options=("Organic Search", "Paid Search", "Referral", "Event", "Outbound")),
                    A("newsletter_opt_in", "Newsletter opt-in", "checkbox"),
                    A("lifetime_value", "Lifetime value", "number")]
        elif store.slug == "deals":
            body = [A("name", "Deal name", "text", system=True),
                    A("stage", "Deal stage", "status", system=True,
                      options=("Lead", "Qualified", "Proposal", "Won 🎉", "Lost")),
                    A("owner", "Deal owner", "actor-reference", system=True),
                    A("value", "Deal value", "currency", system=True),
                    A("associated_people", "Associated people", "record-reference", multi=True,
                      system=True, target="people"),
                    A("associated_company", "Associated company", "record-reference", system=True,
                      target="companies"),
                    A("close_date", "Close date", "date")]
        elif store.slug == "users":
            body = [A("person", "Person", "record-reference", system=True, target="people"),
                    A("primary_email_address", "Primary email address", "email-address", system=True),
                    A("user_id", "ID", "text", system=True),
                    A("workspace", "Workspace", "record-reference", multi=True, system=True, target="workspaces")]
        elif store.slug == "workspaces":
            body = [A("workspace_id", "Workspace ID", "text", system=True),
                    A("name", "Name", "text", system=True),
                    A("users", "Users", "record-reference", multi=True, system=True, target="users"),
                    A("company", "Company", "record-reference", system=True, target="companies"),
                    A("avatar_url", "Avatar URL", "text", system=True)]
        else:  # subscriptions: this workspace's custom object
            body = [A("name", "Name", "text"),
                    A("company", "Company", "record-reference", target="companies"),
                    A("plan", "Plan", "select", options=("Starter", "Growth", "Enterprise")),
                    A("mrr", "MRR", "currency"),
                    A("started_on", "Started on", "date"),
                    A("status", "Status", "status", options=("Active", "Paused", "Cancelled")),
                    A("auto_renew", "Auto renew", "checkbox")]
        return common_head + body + common_tail

    def _list_attributes(self, store: ObjectStore) -> list:
        A = lambda *a, **k: self.attr(store, *a, **k)  # noqa: E731
        if store.slug == "sales_pipeline":
            return [A("stage", "Stage", "status", options=("Discovery", "Negotiation", "Closing", "Done")),
                    A("priority", "Priority", "select", options=("High", "Medium", "Low")),
                    A("next_step", "Next step", "text"),
                    A("expected_close", "Expected close", "date")]
        return [A("account_owner", "Account owner", "actor-reference"),
                A("tier", "Tier", "select", options=("Strategic", "Growth", "Maintain")),
                A("renewal_date", "Renewal date", "date")]

    @staticmethod
    def public_attr(a: dict) -> dict:
        return {k: v for k, v in a.items() if not k.startswith("_")}

    def find_attr(self, store: ObjectStore, slug: str) -> dict:
        for a in store.attributes:
            if a["api_slug"] == slug:
                return a
        raise KeyError(slug)

    # -- value objects ------------------------------------------------------------------------------
    def v(self, store: ObjectStore, slug: str, when: str, actor: dict, **fields) -> dict:
        a = self.find_attr(store, slug)
        t = a["type"]
        out = {"active_from": when, "active_until": None, "created_by_actor": actor}
        if t == "select":
            title = fields.pop("title")
            out["option"] = {"id": {"workspace_id": self.workspace_id, **{k: v for k, v in a["id"].items() if k != "workspace_id"},
                                    "option_id": uid(self.world.seed, "option", store.slug, slug, title)},
                             "title": title, "is_archived": False}
        elif t == "status":
            title = fields.pop("title")
            out["status"] = {"id": {"workspace_id": self.workspace_id, **{k: v for k, v in a["id"].items() if k != "workspace_id"},
                                    "status_id": uid(self.world.seed, "status", store.slug, slug, title)},
                             "title": title, "is_archived": False, "target_time_in_status": None,
                             "celebration_enabled": title.startswith("Won")}
        else:
            out.update(fields)
        out["attribute_type"] = t
        return out

    def empty_values(self, store: ObjectStore) -> dict:
        return {a["api_slug"]: [] for a in store.attributes if a["api_slug"] != "record_id"}

    def record(self, store: ObjectStore, rid: str, created: str, values: dict) -> dict:
        if store.is_list:
            raise ValueError("use entry() for lists")
        return {"id": {"workspace_id": self.workspace_id, "object_id": store.object_id, "record_id": rid},
                "created_at": created,
                "web_url": f"https://app.attio.com/{WORKSPACE_SLUG}/{store.singular.lower()}/{rid}",
                "values": values}

    # -- record builders (deterministic, from the world) -------------------------------------------
    def _location(self, r: random.Random) -> dict:
        city, region, post = r.choice((("San Francisco", "CA", "94107"), ("Austin", "TX", "78701"),
                                       ("Seattle", "WA", "98101"), ("Denver", "CO", "80202"),
                                       ("Portland", "OR", "97205"), ("Chicago", "IL", "60601")))
        return {"line_1": f"{r.randint(1, 999)} {r.choice(('Main', 'Market', 'Oak', 'Pine', 'Cedar'))} St",
                "line_2": None, "line_3": None, "line_4": None, "locality": city, "region": region,
                "postcode": post, "country_code": "US",
                "latitude": f"{r.uniform(30, 47):.6f}", "longitude": f"{-r.uniform(87, 122):.6f}"}

    def _companies(self) -> list:
        w, st = self.world, self.objects["companies"]
        r = w.rng("attio:companies")
        people_at: dict[int, list[int]] = {}
        for p in w.people:
            if p.company is not None:
                people_at.setdefault(p.company, []).append(p.idx)
        out = []
        for c in w.companies:
            rid = attio_company_id(w, c)
            created = stamp(c.created, rid)
            actor = self.actor(c.idx) if r.random() < 0.7 else SYSTEM_ACTOR
            vals = self.empty_values(st)
            if c.old_name and c.renamed_on:
                renamed = stamp(_at(c.renamed_on), rid + "rn")
                old = self.v(st, "name", created, actor, value=c.old_name)
                old["active_until"] = renamed
                vals["name"] = [old, self.v(st, "name", renamed, self.actor(c.idx + 1), value=c.name)]
            else:
                vals["name"] = [self.v(st, "name", created, actor, value=c.name)]
            dom = c.domains["attio"]
            if r.random() > 0.04:   # a few companies were created without a domain
                vals["domains"] = [self.v(st, "domains", created, actor, domain=dom, root_domain=c.domain)]
                if r.random() < 0.06:
                    alt = c.domain[:-4] + ".io"
                    vals["domains"].append(self.v(st, "domains", created, actor, domain=alt, root_domain=alt))
            if r.random() < 0.6:
                vals["description"] = [self.v(st, "description", created, actor,
                                              value=f"{c.name} — {r.choice(('B2B', 'retail', 'logistics', 'health'))} business.")]
            vals["team"] = [self.v(st, "team", created, actor, target_object="people",
                                   target_record_id=attio_person_id(w, w.people[pi]))
                            for pi in people_at.get(c.idx, [])[:25]]
            for cat in r.sample(("B2B", "SaaS", "Retail", "Logistics", "Health", "Food & Beverage"), r.randint(0, 2)):
                vals["categories"].append(self.v(st, "categories", created, actor, title=cat))
            if r.random() < 0.7:
                vals["primary_location"] = [self.v(st, "primary_location", created, actor, **self._location(r))]
            if r.random() < 0.5:
                vals["employee_range"] = [self.v(st, "employee_range", created, actor,
                                                 title=r.choice(("1-10", "11-50", "51-250", "251-1K")))]
            if r.random() < 0.4:
                vals["foundation_date"] = [self.v(st, "foundation_date", created, actor,
                                                  value=f"{r.randint(1980, 2022)}-{r.randint(1, 12):02d}-01")]
            if r.random() < 0.3:
                vals["twitter"] = [self.v(st, "twitter", created, actor, value=f"@{c.domain.split('.')[0]}")]
            if r.random() < 0.8:
                when = stamp(c.created + dt.timedelta(days=r.randint(1, 300)), rid + "li")
                vals["last_interaction"] = [self.v(st, "last_interaction", when, SYSTEM_ACTOR,
                                                   interaction_type="email", interacted_at=when,
                                                   owner_actor=self.actor(c.idx))]
            if c.is_customer:
                vals["customer_tier"] = [self.v(st, "customer_tier", created, actor,
                                                title=r.choice(("Gold", "Silver", "Silver", "Bronze", "Bronze")))]
                vals["arr"] = [self.v(st, "arr", created, actor,
                                      currency_value=round(r.randrange(500_000, 25_000_000, 100) / 100, 2),
                                      currency_code="USD")]
            if r.random() < 0.5:
                vals["health_score"] = [self.v(st, "health_score", created, actor, value=r.randint(1, 5))]
            vals["created_at"] = [self.v(st, "created_at", created, SYSTEM_ACTOR, value=created)]
            vals["created_by"] = [self.v(st, "created_by", created, SYSTEM_ACTOR,
                                         referenced_actor_type=actor["type"], referenced_actor_id=actor["id"])]
            out.append(self.record(st, rid, created, vals))
        out.sort(key=lambda rec: (rec["created_at"], rec["id"]["record_id"]))
        return out

    def _people(self) -> list:
        w, st = self.world, self.objects["people"]
        r = w.rng("attio:people")
        out = []
        titles = ("CEO", "CFO", "Head of Operations", "Office Manager", "Buyer", "Founder", "Engineer",
                  "Marketing Lead", "Account Manager")
        for p in w.people:
            rid = attio_person_id(w, p)
            created = stamp(p.created, rid)
            actor = self.actor(p.idx) if r.random() < 0.6 else SYSTEM_ACTOR
            vals = self.empty_values(st)
            vals["name"] = [self.v(st, "name", created, actor, first_name=p.first, last_name=p.last,
                                   full_name=f"{p.first} {p.last}")]
            typed = p.emails["attio"]
            lower = typed.lower()
            local, _, dom = lower.partition("@")
            vals["email_addresses"] = [self.v(st, "email_addresses", created, actor, original_email_address=typed,
                                              email_address=lower, email_domain=dom,
                                              email_root_domain=".".join(dom.split(".")[-2:]),
                                              email_local_specifier=local.split("+")[0])]
            if p.company is not None and r.random() < 0.08:   # a personal address next to the work one
                alt = f"{p.first}{p.last}{p.idx}@gmail.com".lower()
                vals["email_addresses"].append(self.v(st, "email_addresses", created, actor,
                                                      original_email_address=alt, email_address=alt,
                                                      email_domain="gmail.com", email_root_domain="gmail.com",
                                                      email_local_specifier=alt.split("@")[0]))
            if r.random() < 0.55:
                digits = f"{r.randint(200, 989)}555{r.randint(0, 9999):04d}"
                vals["phone_numbers"] = [self.v(st, "phone_numbers", created, actor,
                                                original_phone_number=f"+1 ({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                                                phone_number=f"+1{digits}", country_code="US")]
            if p.company is not None:
                vals["company"] = [self.v(st, "company", created, actor, target_object="companies",
                                          target_record_id=attio_company_id(w, w.companies[p.company]))]
                if r.random() < 0.7:
                    vals["job_title"] = [self.v(st, "job_title", created, actor, value=r.choice(titles))]
            if r.random() < 0.3:
                vals["primary_location"] = [self.v(st, "primary_location", created, actor, **self._location(r))]
            if r.random() < 0.5:
                when = stamp(p.created + dt.timedelta(days=r.randint(1, 200)), rid + "li")
                vals["last_interaction"] = [self.v(st, "last_interaction", when, SYSTEM_ACTOR,
                                                   interaction_type=r.choice(("email", "calendar-event")),
                                                   interacted_at=when, owner_actor=self.actor(p.idx))]
            if r.random() < 0.6:
                vals["lead_source"] = [self.v(st, "lead_source", created, actor,
                                              title=r.choice(("Organic Search", "Paid Search", "Referral", "Event", "Outbound")))]
            vals["newsletter_opt_in"] = [self.v(st, "newsletter_opt_in", created, actor, value=r.random() < 0.4)]
            if r.random() < 0.3:
                vals["lifetime_value"] = [self.v(st, "lifetime_value", created, actor,
                                                 value=round(r.uniform(20, 5000), 2))]
            vals["created_at"] = [self.v(st, "created_at", created, SYSTEM_ACTOR, value=created)]
            vals["created_by"] = [self.v(st, "created_by", created, SYSTEM_ACTOR,
                                         referenced_actor_type=actor["type"], referenced_actor_id=actor["id"])]
            out.append(self.record(st, rid, created, vals))
        out.sort(key=lambda rec: (rec["created_at"], rec["id"]["record_id"]))
        return out

    STAGE_TITLES = {"lead": "Lead", "qualified": "Qualified", "proposal": "Proposal", "won": "Won 🎉", "lost": "Lost"}

    def deal_id(self, idx: int) -> str:
        return uid(self.world.seed, "deal", idx)

    def _deals(self) -> list:
        w, st = self.world, self.objects["deals"]
        r = w.rng("attio:deals")
        out = []
        for d in w.deals:
            rid = self.deal_id(d.idx)
            created = stamp(d.created, rid)
            owner = self.actor(d.idx)
            vals = self.empty_values(st)
            vals["name"] = [self.v(st, "name", created, owner, value=d.name)]
            if d.closed is not None:
                closed = stamp(_at(d.closed), rid + "cl")
                before = self.v(st, "stage", created, owner, title="Proposal")
                before["active_until"] = closed
                vals["stage"] = [before, self.v(st, "stage", closed, owner, title=self.STAGE_TITLES[d.stage])]
                vals["close_date"] = [self.v(st, "close_date", closed, owner, value=d.closed.isoformat())]
            else:
                vals["stage"] = [self.v(st, "stage", created, owner, title=self.STAGE_TITLES[d.stage])]
            vals["owner"] = [self.v(st, "owner", created, owner, referenced_actor_type="workspace-member",
                                    referenced_actor_id=owner["id"])]
            if r.random() < 0.93:   # some deals were never given a value
                vals["value"] = [self.v(st, "value", created, owner, currency_value=round(d.amount / 100, 2),
                                        currency_code="USD")]
            if d.contact is not None:
                vals["associated_people"] = [self.v(st, "associated_people", created, owner, target_object="people",
                                                    target_record_id=attio_person_id(w, w.people[d.contact]))]
            vals["associated_company"] = [self.v(st, "associated_company", created, owner, target_object="companies",
                                                 target_record_id=attio_company_id(w, w.companies[d.company]))]
            vals["created_at"] = [self.v(st, "created_at", created, SYSTEM_ACTOR, value=created)]
            vals["created_by"] = [self.v(st, "created_by", created, SYSTEM_ACTOR,
                                         referenced_actor_type="workspace-member", referenced_actor_id=owner["id"])]
            out.append(self.record(st, rid, created, vals))
        out.sort(key=lambda rec: (rec["created_at"], rec["id"]["record_id"]))
        return out

    def _product_users(self) -> tuple[list, dict]:
        """Which people use the product (the `users` object) and their product workspaces."""
        w = self.world
        r = w.rng("attio:users")
        users, ws_of_company = [], {}
        for p in w.people:
            if p.company is not None and w.companies[p.company].is_customer and r.random() < 0.25:
                users.append(p)
                ws_of_company.setdefault(p.company, []).append(p.idx)
        return users, ws_of_company

    def _users(self) -> list:
        w, st = self.world, self.objects["users"]
        users, _ = self._product_users()
        out = []
        for p in users:
            rid = uid(w.seed, "user", p.idx)
            created = stamp(p.created + dt.timedelta(days=3), rid)
            vals = self.empty_values(st)
            vals["person"] = [self.v(st, "person", created, SYSTEM_ACTOR, target_object="people",
                                     target_record_id=attio_person_id(w, p))]
            em = p.email
            vals["primary_email_address"] = [self.v(st, "primary_email_address", created, SYSTEM_ACTOR,
                                                    original_email_address=em, email_address=em,
                                                    email_domain=em.split("@")[1],
                                                    email_root_domain=".".join(em.split("@")[1].split(".")[-2:]),
                                                    email_local_specifier=em.split("@")[0])]
            vals["user_id"] = [self.v(st, "user_id", created, SYSTEM_ACTOR, value=f"usr_{p.idx:06d}")]
            vals["workspace"] = [self.v(st, "workspace", created, SYSTEM_ACTOR, target_object="workspaces",
                                        target_record_id=uid(w.seed, "pworkspace", p.company))]
            vals["created_at"] = [self.v(st, "created_at", created, SYSTEM_ACTOR, value=created)]
            vals["created_by"] = [self.v(st, "created_by", created, SYSTEM_ACTOR,
                                         referenced_actor_type="system", referenced_actor_id=None)]
            out.append(self.record(st, rid, created, vals))
        out.sort(key=lambda rec: (rec["created_at"], rec["id"]["record_id"]))
        return out

    def _workspaces(self) -> list:
        w, st = self.world, self.objects["workspaces"]
        _, ws_of_company = self._product_users()
        out = []
        for ci, pidx in sorted(ws_of_company.items()):
            c = w.companies[ci]
            rid = uid(w.seed, "pworkspace", ci)
            created = stamp(min(w.people[i].created for i in pidx) + dt.timedelta(days=2), rid)
            vals = self.empty_values(st)
            vals["workspace_id"] = [self.v(st, "workspace_id", created, SYSTEM_ACTOR, value=f"ws_{ci:06d}")]
            vals["name"] = [self.v(st, "name", created, SYSTEM_ACTOR, value=c.name)]
            vals["users"] = [self.v(st, "users", created, SYSTEM_ACTOR, target_object="users",
                                    target_record_id=uid(w.seed, "user", i)) for i in pidx]
            vals["company"] = [self.v(st, "company", created, SYSTEM_ACTOR, target_object="companies",
                                      target_record_id=attio_company_id(w, c))]
            vals["created_at"] = [self.v(st, "created_at", created, SYSTEM_ACTOR, value=created)]
            vals["created_by"] = [self.v(st, "created_by", created, SYSTEM_ACTOR,
                                         referenced_actor_type="system", referenced_actor_id=None)]
            out.append(self.record(st, rid, created, vals))
        out.sort(key=lambda rec: (rec["created_at"], rec["id"]["record_id"]))
        return out

    def _subscriptions(self) -> list:
        w, st = self.world, self.objects["subscriptions"]
        r = w.rng("attio:subscriptions")
        monthly = {name for name, _ in SERVICES if "monthly" in name or "Retainer" in name}
        out = []
        for d in w.deals:
            if d.stage != "won" or d.closed is None:
                continue
            service = d.name.split(" – ")[-1]
            if service not in monthly and r.random() > 0.2:
                continue
            rid = uid(w.seed, "subscription", d.idx)
            created = stamp(_at(d.closed, 18 * 3600), rid)
            actor = self.actor(d.idx)
            c = w.companies[d.company]
            vals = self.empty_values(st)
            vals["name"] = [self.v(st, "name", created, actor, value=f"{c.name} – {service}")]
            vals["company"] = [self.v(st, "company", created, actor, target_object="companies",
                                      target_record_id=attio_company_id(w, c))]
            vals["plan"] = [self.v(st, "plan", created, actor, title=r.choice(("Starter", "Growth", "Enterprise")))]
            vals["mrr"] = [self.v(st, "mrr", created, actor, currency_value=round(r.randrange(4900, 99900, 100) / 100, 2),
                                  currency_code="USD")]
            vals["started_on"] = [self.v(st, "started_on", created, actor, value=d.closed.isoformat())]
            status = "Cancelled" if r.random() < 0.15 else "Active"
            if status == "Cancelled":
                later = stamp(_at(min(d.closed + dt.timedelta(days=r.randint(30, 200)), w.today - dt.timedelta(days=1))),
                              rid + "cx")
                first = self.v(st, "status", created, actor, title="Active")
                first["active_until"] = later
                vals["status"] = [first, self.v(st, "status", later, actor, title="Cancelled")]
            else:
                vals["status"] = [self.v(st, "status", created, actor, title="Active")]
            vals["auto_renew"] = [self.v(st, "auto_renew", created, actor, value=status == "Active")]
            vals["created_at"] = [self.v(st, "created_at", created, SYSTEM_ACTOR, value=created)]
            vals["created_by"] = [self.v(st, "created_by", created, SYSTEM_ACTOR,
                                         referenced_actor_type="workspace-member", referenced_actor_id=actor["id"])]
            out.append(self.record(st, rid, created, vals))
        out.sort(key=lambda rec: (rec["created_at"], rec["id"]["record_id"]))
        return out

    def entry(self, store: ObjectStore, eid: str, parent_id: str, created: str, values: dict) -> dict:
        return {"id": {"workspace_id": self.workspace_id, "list_id": store.object_id, "entry_id": eid},
                "parent_record_id": parent_id, "parent_object": store.parent_object,
                "created_at": created, "entry_values": values}

    def _pipeline_entries(self) -> list:
        w, st = self.world, self.lists["sales_pipeline"]
        r = w.rng("attio:pipeline")
        out = []
        for d in w.deals:
            if d.stage == "lost" or r.random() < 0.3:
                continue
            eid = uid(w.seed, "entry", "pipeline", d.idx)
            created = stamp(d.created + dt.timedelta(hours=1), eid)
            actor = self.actor(d.idx)
            vals = {a["api_slug"]: [] for a in st.attributes}
            stage = {"lead": "Discovery", "qualified": "Discovery", "proposal": "Negotiation", "won": "Done"}[d.stage]
            vals["stage"] = [self.v(st, "stage", created, actor, title=stage)]
            vals["priority"] = [self.v(st, "priority", created, actor, title=r.choice(("High", "Medium", "Low")))]
            if r.random() < 0.5:
                vals["next_step"] = [self.v(st, "next_step", created, actor,
                                            value=r.choice(("Send proposal", "Book demo", "Chase signature", "Intro call")))]
            if d.closed:
                vals["expected_close"] = [self.v(st, "expected_close", created, actor, value=d.closed.isoformat())]
            out.append(self.entry(st, eid, self.deal_id(d.idx), created, vals))
        out.sort(key=lambda e: (e["created_at"], e["id"]["entry_id"]))
        return out

    def _key_account_entries(self) -> list:
        w, st = self.world, self.lists["key_accounts"]
        r = w.rng("attio:key_accounts")
        out = []
        for c in w.companies:
            if not c.is_customer or r.random() > 0.25:
                continue
            eid = uid(w.seed, "entry", "key", c.idx)
            created = stamp(c.created + dt.timedelta(days=30), eid)
            actor = self.actor(c.idx)
            vals = {a["api_slug"]: [] for a in st.attributes}
            vals["account_owner"] = [self.v(st, "account_owner", created, actor,
                                            referenced_actor_type="workspace-member", referenced_actor_id=actor["id"])]
            vals["tier"] = [self.v(st, "tier", created, actor, title=r.choice(("Strategic", "Growth", "Maintain")))]
            if r.random() < 0.6:
                vals["renewal_date"] = [self.v(st, "renewal_date", created, actor,
                                               value=(w.today + dt.timedelta(days=r.randint(10, 300))).isoformat())]
            out.append(self.entry(st, eid, attio_company_id(w, c), created, vals))
        out.sort(key=lambda e: (e["created_at"], e["id"]["entry_id"]))
        return out

    # -- notes, tasks ---------------------------------------------------------------------------------
    @property
    def notes(self) -> list:
        if self._notes is None:
            w = self.world
            r = w.rng("attio:notes")
            out = []
            for i in range(w.n(400)):
                if r.random() < 0.5:
                    d = w.deals[r.randrange(len(w.deals))]
                    parent, pid, about = "deals", self.deal_id(d.idx), d.name
                    at = d.created + dt.timedelta(days=r.randint(0, 20))
                else:
                    c = w.companies[r.randrange(len(w.companies))]
                    parent, pid, about = "companies", attio_company_id(w, c), c.name
                    at = c.created + dt.timedelta(days=r.randint(0, 200))
                at = min(at, _at(w.today - dt.timedelta(days=1)))
                nid = uid(w.seed, "note", i)
                title = r.choice(("Intro call", "Pricing discussion", "Quarterly review", "Support escalation"))
                body = f"{title} with {about}.\nNext: {r.choice(('follow up', 'send quote', 'nothing'))}"
                out.append({"id": {"workspace_id": self.workspace_id, "note_id": nid},
                            "parent_object": parent, "parent_record_id": pid, "title": title,
                            "meeting_id": None, "content_plaintext": body,
                            "content_markdown": body.replace("Next:", "**Next:**"),
                            "tags": [], "created_by_actor": self.actor(i), "created_at": stamp(at, nid)})
            out.sort(key=lambda n: (n["created_at"], n["id"]["note_id"]))
            self._notes = out
        return self._notes

    @property
    def tasks(self) -> list:
        if self._tasks is None:
            w = self.world
            r = w.rng("attio:tasks")
            out = []
            for i in range(w.n(200)):
                c = w.companies[r.randrange(len(w.companies))]
                tid = uid(w.seed, "task", i)
                at = min(c.created + dt.timedelta(days=r.randint(0, 400)), _at(w.today - dt.timedelta(days=1)))
                deadline = at + dt.timedelta(days=r.randint(1, 30)) if r.random() < 0.8 else None
                content = f"{r.choice(('Call', 'Email', 'Send invoice to', 'Renew'))} {c.name}"
                done = deadline is not None and deadline.date() < w.today and r.random() < 0.7
                # completed somewhere between creation and the deadline (no draw: the world stays the same)
                done_at = at + (deadline - at) * ((i % 9) + 1) / 10 if done else None
                out.append({"id": {"workspace_id": self.workspace_id, "task_id": tid},
                            "content_plaintext": content,
                            "deadline_at": stamp(deadline, tid + "dl") if deadline else None,
                            "is_completed": done,
                            "completed_at": stamp(done_at, tid + "done") if done_at else None,
                            "linked_records": [{"target_object_id": "companies",
                                                "target_record_id": attio_company_id(w, c)}],
                            "assignees": [{"referenced_actor_type": "workspace-member",
                                           "referenced_actor_id": self.actor(i)["id"]}],
                            "created_by_actor": self.actor(i + 1), "created_at": stamp(at, tid)})
            out.sort(key=lambda t: (t["created_at"], t["id"]["task_id"]))
            self._tasks = out
        return self._tasks

    # -- API-shaped views -------------------------------------------------------------------------------
    def object_json(self, st: ObjectStore) -> dict:
        return {"id": {"workspace_id": self.workspace_id, "object_id": st.object_id}, "api_slug": st.slug,
                "singular_noun": st.singular, "plural_noun": st.plural, "created_at": st.created_at}

    def list_json(self, st: ObjectStore) -> dict:
        return {"id": {"workspace_id": self.workspace_id, "list_id": st.object_id}, "api_slug": st.slug,
                "name": st.singular, "parent_object": [st.parent_object], "workspace_access": "full-access",
                "workspace_member_access": [], "created_by_actor": self.actor(0), "created_at": st.created_at}

    def find(self, stores: dict, key: str) -> ObjectStore | None:
        if key in stores:
            return stores[key]
        for st in stores.values():
            if st.object_id == key:
                return st
        return None

    # -- control hooks ----------------------------------------------------------------------------------
    def mutate(self, object: str = "people", *, update: int = 0, create: int = 0, delete: int = 0,
               record_ids: list | None = None, attribute: str | None = None, value: Any = None) -> dict:
        """Change records the way users do: `update` n records (the attribute's old value is closed
        with `active_until`, a new current value added), `create` n new records, `delete` n records
        (or the given `record_ids`). Returns what changed, so a test can look for it downstream."""
        st = self.find(self.objects, object)
        if st is None:
            raise KeyError(f"unknown object {object!r}")
        st.ensure()
        self.mutations += 1
        r = random.Random(f"{self.world.seed}:attio:mutate:{object}:{self.mutations}")
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
                    changed["updated"].append(self._update_one(st, rid, r, attribute, value))
                elif st.delete(rid):
                    changed["deleted"].append(rid)
        for _ in range(create):
            changed["created"].append(self._create_one(st, r))
        return changed

    def _update_one(self, st: ObjectStore, rid: str, r: random.Random, attribute: str | None, value: Any) -> dict:
        rec = st.get(rid)
        if rec is None:
            raise KeyError(f"unknown record {rid!r}")
        default_attr = {"people": "job_title", "companies": "description", "deals": "stage",
                        "subscriptions": "plan", "users": "user_id", "workspaces": "name"}.get(st.slug, "name")
        slug = attribute or default_attr
        a = self.find_attr(st, slug)
        now = self.now_stamp()
        actor = self.actor(r.randrange(5))
        for old in rec["values"].get(slug, []):
            if old["active_until"] is None:
                old["active_until"] = now
        if a["type"] in ("select", "status"):
            choices = [o for o in a.get("_options", []) if o != value] or ["Changed"]
            title = value if value is not None else r.choice(
                [o for o in choices if o not in {v[a["type"] if a["type"] == "status" else "option"]["title"]
                                                  for v in rec["values"].get(slug, [])}] or choices)
            new = self.v(st, slug, now, actor, title=title)
            shown = title
        elif a["type"] == "text":
            shown = value if value is not None else f"Changed {self.mutations}-{r.randint(1000, 9999)}"
            new = self.v(st, slug, now, actor, value=shown)
        elif a["type"] in ("number", "rating"):
            shown = value if value is not None else r.randint(1, 5)
            new = self.v(st, slug, now, actor, value=shown)
        elif a["type"] == "checkbox":
            shown = bool(value) if value is not None else True
            new = self.v(st, slug, now, actor, value=shown)
        else:
            raise ValueError(f"mutate does not change {a['type']} attributes")
        rec["values"].setdefault(slug, []).append(new)
        st.put(rec)
        return {"record_id": rid, "attribute": slug, "value": shown}

    def _create_one(self, st: ObjectStore, r: random.Random) -> str:
        rid = uid(self.world.seed, "new", st.slug, self.mutations, r.getrandbits(32))
        now = self.now_stamp()
        actor = self.actor(r.randrange(5))
        vals = self.empty_values(st)
        if st.slug == "people":
            first, last = r.choice(("Ada", "Bo", "Cy", "Di")), r.choice(("Novak", "Lind", "Ortiz"))
            em = f"{first}.{last}.{self.mutations}@newco.example".lower()
            vals["name"] = [self.v(st, "name", now, actor, first_name=first, last_name=last, full_name=f"{first} {last}")]
            vals["email_addresses"] = [self.v(st, "email_addresses", now, actor, original_email_address=em,
                                              email_address=em, email_domain="newco.example",
                                              email_root_domain="newco.example", email_local_specifier=em.split("@")[0])]
        elif self._has(st, "name") and self.find_attr(st, "name")["type"] == "text":
            vals["name"] = [self.v(st, "name", now, actor, value=f"New {st.singular} {self.mutations}")]
        vals["created_at"] = [self.v(st, "created_at", now, SYSTEM_ACTOR, value=now)]
        vals["created_by"] = [self.v(st, "created_by", now, SYSTEM_ACTOR,
                                     referenced_actor_type="workspace-member", referenced_actor_id=actor["id"])]
        for slug in list(vals):   # attributes added by drift get an empty list like the rest
            vals.setdefault(slug, [])
        st.put(self.record(st, rid, now, vals))
        return rid

    def _has(self, st: ObjectStore, slug: str) -> bool:
        return any(a["api_slug"] == slug for a in st.attributes)

    def add_custom_attribute(self, object: str = "companies", api_slug: str = "renewal_month",
                             type: str = "text", title: str | None = None, multi: bool = False,
                             fill: Callable[[dict], Any] | Any = None, every: int = 3, replace: bool = False) -> dict:
        """Schema drift: a workspace admin adds an attribute. Existing records get `[]`, and every
        `every`-th record gets a value (`fill(record)` or the constant `fill`). With `replace`, an
        attribute of that slug is first removed with its values: the slug comes back with a new
        type (archive and re-create, the only way an attribute's type changes in Attio)."""
        st = self.find(self.objects, object)
        if st is None:
            raise KeyError(f"unknown object {object!r}")
        st.ensure()
        if replace and self._has(st, api_slug):
            st.attributes = [a for a in st.attributes if a["api_slug"] != api_slug]
            for rid in list(st.order):
                rec = json.loads(st.raw[rid])
                rec["values"].pop(api_slug, None)
                st.put(rec)
        if self._has(st, api_slug):
            raise ValueError(f"attribute {api_slug!r} already exists on {object}")
        now = self.now_stamp()
        a = self.attr(st, api_slug, title or api_slug.replace("_", " ").capitalize(), type, multi=multi,
                      created_at=now, options=("Option A", "Option B") if type in ("select", "status") else ())
        st.attributes.insert(len(st.attributes) - 2, a)   # before created_at/created_by, as Attio lists it
        actor = self.actor(0)
        for i, rid in enumerate(list(st.order)):
            rec = json.loads(st.raw[rid])
            rec["values"][api_slug] = []
            if every and i % every == 0:
                given = fill(rec) if callable(fill) else fill
                if type in ("select", "status"):
                    rec["values"][api_slug] = [self.v(st, api_slug, now, actor, title=given or "Option A")]
                elif type == "currency":
                    rec["values"][api_slug] = [self.v(st, api_slug, now, actor,
                                                      currency_value=given if given is not None else 100.0,
                                                      currency_code="USD")]
                else:
                    default = {"text": f"value {i}", "number": i, "checkbox": True, "rating": 3,
                               "date": "2026-01-01", "timestamp": now}.get(type, f"value {i}")
                    rec["values"][api_slug] = [self.v(st, api_slug, now, actor,
                                                      value=given if given is not None else default)]
            st.put(rec)
        return self.public_attr(a)

    def add_object(self, api_slug: str, singular_noun: str | None = None, plural_noun: str | None = None,
                   records: int = 3) -> dict:
        """A workspace admin creates a custom object (Attio gives it record_id, created_at and
        created_by; we add a text `name`) and `records` records named "<noun> 1", "<noun> 2", ….
        The slug is taken as given: what a tap does with any slug is the point of this hook."""
        if api_slug in self.objects:
            raise ValueError(f"object {api_slug!r} already exists")
        singular = singular_noun or api_slug
        now = self.now_stamp()
        st = ObjectStore(api_slug, uid(self.world.seed, "object", api_slug), singular, plural_noun or singular, now)
        st.attributes = [self.attr(st, "record_id", "Record ID", "text", system=True, created_at=now),
                         self.attr(st, "name", "Name", "text", created_at=now),
                         self.attr(st, "created_at", "Created at", "timestamp", system=True, created_at=now),
                         self.attr(st, "created_by", "Created by", "actor-reference", system=True, created_at=now)]
        self.objects[api_slug] = st
        actor = self.actor(0)
        for n in range(1, records + 1):
            vals = self.empty_values(st)
            vals["name"] = [self.v(st, "name", now, actor, value=f"{singular} {n}")]
            vals["created_at"] = [self.v(st, "created_at", now, SYSTEM_ACTOR, value=now)]
            vals["created_by"] = [self.v(st, "created_by", now, SYSTEM_ACTOR,
                                         referenced_actor_type="workspace-member", referenced_actor_id=actor["id"])]
            st.put(self.record(st, uid(self.world.seed, "record", api_slug, n), now, vals))
        return self.object_json(st)

    def add_list(self, api_slug: str, name: str | None = None, parent_object: str = "companies",
                 entries: int = 3) -> dict:
        """A user creates a list of `parent_object` records with one text attribute, `note`, and
        puts the first `entries` of those records on it. The slug is taken as given."""
        if api_slug in self.lists:
            raise ValueError(f"list {api_slug!r} already exists")
        parent = self.find(self.objects, parent_object)
        if parent is None:
            raise KeyError(f"unknown object {parent_object!r}")
        parent.ensure()
        now = self.now_stamp()
        st = ObjectStore(api_slug, uid(self.world.seed, "list", api_slug), name or api_slug, name or api_slug, now,
                         is_list=True, parent_object=parent.slug)
        st.attributes = [self.attr(st, "note", "Note", "text", created_at=now)]
        self.lists[api_slug] = st
        actor = self.actor(1)
        for n, record_id in enumerate(parent.order[:entries], start=1):
            vals = {"note": [self.v(st, "note", now, actor, value=f"entry {n} of {st.singular}")]}
            st.put(self.entry(st, uid(self.world.seed, "entry", api_slug, n), record_id, now, vals))
        return self.list_json(st)

    def set_faults(self, *, rate_limit: int | None = None, server_error: int | None = None,
                   drop: int | None = None, retry_after_seconds: float | None = None,
                   rate_limit_enabled: bool | None = None, reads_per_second: int | None = None) -> dict:
        """Arm the next N requests to fail (429 / 500 / dropped connection), and/or switch the
        100 reads/s limiter. Returns the armed state."""
        for k, v in (("rate_limit", rate_limit), ("server_error", server_error), ("drop", drop),
                     ("retry_after_seconds", retry_after_seconds)):
            if v is not None:
                self.faults[k] = v
        if rate_limit_enabled is not None:
            self.rate_limit_enabled = rate_limit_enabled
        if reads_per_second is not None:
            self.reads_per_second = reads_per_second
        return {**self.faults, "rate_limit_enabled": self.rate_limit_enabled, "reads_per_second": self.reads_per_second}

    def counts(self) -> dict:
        out = {slug: st.count() for slug, st in self.objects.items()}
        out.update({f"list:{slug}": st.count() for slug, st in self.lists.items()})
        out.update(notes=len(self.notes), tasks=len(self.tasks), workspace_members=len(self.members),
                   objects=len(self.objects), lists=len(self.lists),
                   attributes={slug: len(st.attributes) for slug, st in self.objects.items()})
        return out

    def truth_rows(self) -> dict:
        """Every current record, entry, note, task and member exactly as served: what a complete,
        current copy of the workspace holds."""
        def served(st: ObjectStore) -> list:
            st.ensure()
            return [json.loads(st.raw[rid]) for rid in st.order]
        return {"object_definitions": [self.object_json(st) for st in self.objects.values()],
                "list_definitions": [self.list_json(st) for st in self.lists.values()],
                "objects": {slug: served(st) for slug, st in self.objects.items()},
                "lists": {slug: served(st) for slug, st in self.lists.items()},
                "notes": self.notes, "tasks": self.tasks, "workspace_members": self.members}

    # -- rate limit ---------------------------------------------------------------------------------
    def retry_after(self, seconds: float) -> str:
        """Attio's Retry-After: an HTTP date (whole seconds, so rounded up)."""
        when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
        when = when.replace(microsecond=0) + dt.timedelta(seconds=1 if when.microsecond else 0)
        return email.utils.format_datetime(when, usegmt=True)

    def over_limit(self) -> float:
        """Seconds until a read is allowed again (0 = allowed now); records the read."""
        if not self.rate_limit_enabled:
            return 0.0
        now = time.monotonic()
        win = self._window
        while win and now - win[0] >= 1.0:
            win.popleft()
        if len(win) >= self.reads_per_second:
            return 1.0 - (now - win[0])
        win.append(now)
        return 0.0


APP_KEY: web.AppKey[AttioSandbox] = web.AppKey("attio_sandbox", AttioSandbox)


# ---- HTTP layer ---------------------------------------------------------------------------------------
def _rate_limited(message: str, seconds: float, state: AttioSandbox) -> web.Response:
    return json_error(429, "rate_limit_error", "rate_limit_exceeded", message,
                      headers={"Retry-After": state.retry_after(seconds)})


@web.middleware
async def attio_middleware(request: web.Request, handler):
    if not request.path.startswith(PREFIX + "/") and request.path != PREFIX:
        return await handler(request)
    state = request.app[APP_KEY]
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    if token not in state.api_keys:
        return json_error(401, "auth_error", "invalid_api_key" if token else "missing_authorization",
                          "The access token is invalid, expired or revoked." if token else
                          "No access token was provided: send 'Authorization: Bearer <token>'.")
    f = state.faults
    if f["drop"] > 0:
        f["drop"] -= 1
        if request.transport is not None:
            request.transport.abort()   # the client sees the connection reset mid-request
        raise asyncio.CancelledError()
    if f["rate_limit"] > 0:
        f["rate_limit"] -= 1
        return _rate_limited("Rate limit exceeded, please try again later", f["retry_after_seconds"], state)
    if f["server_error"] > 0:
        f["server_error"] -= 1
        return json_error(500, "api_error", "internal_server_error", "An unexpected error occurred.")
    wait = state.over_limit()
    if wait > 0:
        return _rate_limited(f"Rate limit of {state.reads_per_second} read requests per second exceeded",
                             wait, state)
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return json_error(404, "invalid_request_error", "not_found", f"No route for {request.method} {request.path}.")
    except web.HTTPMethodNotAllowed:
        return json_error(405, "invalid_request_error", "method_not_allowed",
                          f"{request.method} is not allowed on {request.path}.")


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


def add_routes(app: web.Application, world: World, clock: Any = None) -> AttioSandbox:
    """Mount the Attio v2 API under /attio/v2 and keep its state at `app[APP_KEY]`."""
    state = AttioSandbox(world, clock)
    app[APP_KEY] = state
    app.middlewares.append(attio_middleware)
    r = app.router

    def count(name: str):
        state_ = app[APP_KEY]
        state_.requests[name] += 1
        return state_

    async def self_(request):
        st = count("self")
        return web.json_response({
            "active": True, "scope": "record_permission:read object_configuration:read note:read task:read "
                                     "list_entry:read list_configuration:read user_management:read",
            "client_id": uid(world.seed, "client"), "token_type": "Bearer", "exp": None, "iat": 1700000000,
            "sub": st.workspace_id, "aud": uid(world.seed, "client"), "iss": "attio.com", "token_level": "workspace",
            "authorized_by_workspace_member_id": st.member_ids[0], "workspace_id": st.workspace_id,
            "workspace_name": "Tributary", "workspace_slug": WORKSPACE_SLUG, "workspace_logo_url": None})

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

    def one_by_id(counter: str, items: Callable[[AttioSandbox], list], id_key: str, label: str):
        """GET one note, task or workspace member by its id."""
        async def handler(request):
            st = count(counter)
            wanted = request.match_info[id_key]
            found = next((item for item in items(st) if item["id"][id_key] == wanted), None)
            return _not_found(label, wanted) if found is None else web.json_response({"data": found})
        return handler

    r.add_get(PREFIX + "/self", self_)
    r.add_get(PREFIX + "/objects", objects)
    r.add_get(PREFIX + "/objects/{object}", one_object)
    r.add_get(PREFIX + "/objects/{object}/attributes", attributes)
    r.add_post(PREFIX + "/objects/{object}/records/query", records_query)
    r.add_get(PREFIX + "/objects/{object}/records/{record_id}", record)
    r.add_get(PREFIX + "/lists", lists)
    r.add_get(PREFIX + "/lists/{list}", one_list)
    r.add_get(PREFIX + "/lists/{list}/attributes", list_attributes)
    r.add_post(PREFIX + "/lists/{list}/entries/query", entries_query)
    r.add_get(PREFIX + "/notes", notes)
    r.add_get(PREFIX + "/notes/{note_id}", one_by_id("note", lambda st: st.notes, "note_id", "Note"))
    r.add_get(PREFIX + "/tasks", tasks)
    r.add_get(PREFIX + "/tasks/{task_id}", one_by_id("task", lambda st: st.tasks, "task_id", "Task"))
    r.add_get(PREFIX + "/workspace_members", members)
    r.add_get(PREFIX + "/workspace_members/{workspace_member_id}",
              one_by_id("workspace_member", lambda st: st.members, "workspace_member_id", "Workspace member"))
    return state


# ---- control hooks (functions; `add_control_routes` mounts them as HTTP) -------------------------------
def sandbox(app: web.Application) -> AttioSandbox:
    return app[APP_KEY]


def mutate(app: web.Application, object: str = "people", **kwargs) -> dict:
    return app[APP_KEY].mutate(object, **kwargs)


def add_custom_attribute(app: web.Application, object: str = "companies", api_slug: str = "renewal_month",
                         **kwargs) -> dict:
    return app[APP_KEY].add_custom_attribute(object, api_slug, **kwargs)


def add_object(app: web.Application, api_slug: str, **kwargs) -> dict:
    return app[APP_KEY].add_object(api_slug, **kwargs)


def add_list(app: web.Application, api_slug: str, **kwargs) -> dict:
    return app[APP_KEY].add_list(api_slug, **kwargs)


def set_faults(app: web.Application, **kwargs) -> dict:
    return app[APP_KEY].set_faults(**kwargs)


def reset(app: web.Application, world: World | None = None) -> AttioSandbox:
    """Rebuild the workspace from `world` (default: the current one); drops mutations, drift,
    faults and counters."""
    state = app[APP_KEY]
    state.load(world or state.world)
    return state


def add_control_routes(app: web.Application, prefix: str = "/_sandbox/attio") -> None:
    """POST {prefix}/mutate {object, update, create, delete, record_ids, attribute, value}
    POST {prefix}/attributes {object, api_slug, type, title, multi, fill, every}
    POST {prefix}/objects {api_slug, singular_noun, plural_noun, records}
    POST {prefix}/lists {api_slug, name, parent_object, entries}
    POST {prefix}/faults {rate_limit, server_error, drop, retry_after_seconds, rate_limit_enabled, reads_per_second}
    POST {prefix}/reset; GET {prefix}/counts; GET {prefix}/requests; GET {prefix}/truth/rows"""

    async def _call(request, fn):
        try:
            body = await request.json() if request.can_read_body else {}
            return web.json_response(fn(body))
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def do_mutate(request):
        return await _call(request, lambda b: mutate(app, **b))

    async def do_attr(request):
        return await _call(request, lambda b: add_custom_attribute(app, **b))

    async def do_object(request):
        return await _call(request, lambda b: add_object(app, **b))

    async def do_list(request):
        return await _call(request, lambda b: add_list(app, **b))

    async def do_faults(request):
        return await _call(request, lambda b: set_faults(app, **b))

    async def do_reset(request):
        reset(app)
        return web.json_response({"reset": True})

    async def do_counts(request):
        return web.json_response(app[APP_KEY].counts())

    async def do_requests(request):
        return web.json_response(dict(app[APP_KEY].requests))

    async def do_truth_rows(request):
        return web.json_response(app[APP_KEY].truth_rows())

    app.router.add_post(prefix + "/mutate", do_mutate)
    app.router.add_post(prefix + "/attributes", do_attr)
    app.router.add_post(prefix + "/objects", do_object)
    app.router.add_post(prefix + "/lists", do_list)
    app.router.add_post(prefix + "/faults", do_faults)
    app.router.add_post(prefix + "/reset", do_reset)
    app.router.add_get(prefix + "/counts", do_counts)
    app.router.add_get(prefix + "/requests", do_requests)
    app.router.add_get(prefix + "/truth/rows", do_truth_rows)


def make_app(world: World, clock: Any = None) -> web.Application:
    """A stand-alone app with only Attio (tests, benchmarks)."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    add_routes(app, world, clock)
    add_control_routes(app)
    return app


def main(argv: list | None = None) -> None:
    """`python -m tributary_sandbox.attio --port 8765 --scale 1` serves Attio alone."""
    import argparse

    from .world import build_world
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--today", default=None)
    p.add_argument("--no-rate-limit", action="store_true")
    a = p.parse_args(argv)
    today = dt.date.fromisoformat(a.today) if a.today else None
    app = make_app(build_world(a.seed, a.scale, today))
    if a.no_rate_limit:
        app[APP_KEY].rate_limit_enabled = False
    web.run_app(app, host=a.host, port=a.port, print=lambda *_: print(f"attio sandbox on http://{a.host}:{a.port}{PREFIX}", flush=True))


if __name__ == "__main__":
    main()
