"""The Attio workspace the sandbox serves, projected from the shared world (world.py). No HTTP here.

Records look like Attio's: `id{workspace_id,object_id,record_id}`, `created_at` with nine
fractional digits, `web_url`, and `values` where every attribute maps to a list of value objects
(`active_until` null = current; renamed companies and moved deals keep their old value with
`active_until` set). The companies and people are the world's, with the CRM's own mess
(product-subdomain domains, upper-cased e-mails, missing titles and phones).

Built for volume: each record is serialised once (ObjectStore.raw) and the API joins those bytes
into pages, so a benchmark measures the client, not this server.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ...clock import Clock
from ...world import SERVICES, World, attio_company_id, attio_person_id

PHONE_REGIONS = {"+1": "US", "+44": "GB", "+49": "DE"}   # Attio's country_code of a number

WORKSPACE_SLUG = "tributary"
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


class Workspace:
    """The simulated workspace, built from one world: objects and lists (their attributes and
    records), notes, tasks and members. The Simulator builds a new one on every (re)load."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world, self.clock = world, clock
        self.mutations = 0   # changes made through control.mutate: each draws from its own seed
        self._build()

    def now_stamp(self) -> str:
        """The sandbox clock's now, as Attio stamps a change (nine fractional digits)."""
        n = self.clock.now()
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
            if p.only_in is not None:
                continue    # a customer the CRM never got (build_world's mess)
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
            if r.random() < 0.55 and not p.phones:
                digits = f"{r.randint(200, 989)}555{r.randint(0, 9999):04d}"
                vals["phone_numbers"] = [self.v(st, "phone_numbers", created, actor,
                                                original_phone_number=f"+1 ({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                                                phone_number=f"+1{digits}", country_code="US")]
            elif p.phones:   # the world's own number (build_world's mess), as the CRM shows it
                typed = p.phones["attio"]
                e164 = p.phones["shopify"]
                vals["phone_numbers"] = [self.v(st, "phone_numbers", created, actor, original_phone_number=typed,
                                                phone_number=e164, country_code=PHONE_REGIONS.get(typed.split()[0], "US"))]
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

    def has_attr(self, st: ObjectStore, slug: str) -> bool:
        return any(a["api_slug"] == slug for a in st.attributes)
