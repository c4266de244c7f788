"""GA4's sessions: the shared world (world.py) as the two simulated properties would have recorded it.

Properties (both readable with every sandbox credential):
  412345678  "Tributary Shop (web)"  the world's web sessions; purchases ARE the world's shop orders
  412345679  "Tributary Blog"        half the traffic, no e-commerce
Another business (app.py, instances) has the same two kinds of property under ids of its own
(`instance_properties`), over its own world.

Data model. Each property/day is a list of synthetic sessions built from `World.web_sessions`
(sessions per channel and day) and `World.orders`: every shop order of that day and channel is
attached to one session of that channel, so `ecommercePurchases`/`transactions` per day and channel
equal the number of shop orders and `totalRevenue`/`purchaseRevenue` equal their totals (cents /
100, tax and shipping included; `itemRevenue` is the line subtotal). `transactionId` is
`str(1001 + order.idx)`. Users are approximate (a returning-visitor pool; `totalUsers` is the count
of distinct user ids in each row, so it is not additive, as in GA4).

Restatement. The last days are incomplete, as in GA4 (24–48 h processing): a day `a` days before
`today` shows a fraction of its sessions, frac(a, revision) = min(1, 0.55 + 0.15 a + 0.2 revision)
(a=1: 70 %, a=2: 85 %, a>=3: 100 % at revision 0). `restate()` (POST /_sandbox/ga4/restate) bumps
the revision: recent figures grow until they are complete. Days >= today have no data.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
import re

from ...world import World

TIME_ZONE = "America/Los_Angeles"   # the properties' reporting time zone
PROPERTIES = {
    "412345678": {"name": "Tributary Shop (web)", "factor": 1.0, "shop": True},
    "412345679": {"name": "Tributary Blog", "factor": 0.5, "shop": False},
}


def instance_properties(instance: str) -> dict[str, dict]:
    """Another business's two properties: ids of its own (9 digits from 500000000, derived from its
    name: never the default's 41234567x), names of its own."""
    first = 500_000_000 + int(hashlib.sha256(instance.encode()).hexdigest()[:8], 16) % 99_000_000 * 2
    return {str(first + offset): {**prop, "name": prop["name"].replace("Tributary", instance.title())}
            for offset, prop in enumerate(PROPERTIES.values())}

# ---- the shape of the site ----------------------------------------------------------------------
SOURCES = {  # channel -> [(source, medium, campaign, weight)]
    "Organic Search": [("google", "organic", "(organic)", 70), ("bing", "organic", "(organic)", 20),
                       ("duckduckgo", "organic", "(organic)", 10)],
    "Paid Search": [("google", "cpc", "brand_search", 50), ("google", "cpc", "generic_gifts", 35),
                    ("bing", "cpc", "brand_search", 15)],
    "Direct": [("(direct)", "(none)", "(direct)", 1)],
    "Email": [("newsletter", "email", "weekly_digest", 60), ("newsletter", "email", "welcome_series", 25),
              ("klaviyo", "email", "winback", 15)],
    "Organic Social": [("instagram.com", "referral", "(referral)", 50), ("facebook.com", "referral", "(referral)", 30),
                       ("pinterest.com", "referral", "(referral)", 20)],
    "Referral": [("giftguide.example", "referral", "(referral)", 60), ("partnerblog.example", "referral", "(referral)", 40)],
}
DEVICES = (("mobile", 52), ("desktop", 43), ("tablet", 5))
COUNTRIES = (("United States", 600), ("Canada", 90), ("United Kingdom", 90), ("Germany", 45), ("Australia", 45),
             ("France", 30), ("Netherlands", 15), ("Ireland", 12), ("Sweden", 10), ("Spain", 10), ("Italy", 8),
             ("Mexico", 8), ("Japan", 6), ("India", 6), ("Brazil", 5), ("New Zealand", 4), ("Norway", 3),
             ("Denmark", 3), ("Poland", 2), ("Portugal", 2), ("Singapore", 2), ("Austria", 2), ("Belgium", 2),
             ("Switzerland", 2), ("South Africa", 1))
CITIES = {"United States": ("Portland", "Seattle", "Austin", "New York", "Chicago"),
          "Canada": ("Toronto", "Vancouver"), "United Kingdom": ("London", "Manchester")}
BROWSERS = (("Chrome", 62), ("Safari", 28), ("Edge", 5), ("Firefox", 4), ("Samsung Internet", 1))
BLOG_POSTS = ("gift-guide", "tea-brewing-101", "how-we-source", "studio-tour", "care-instructions",
              "holiday-hours", "new-arrivals", "behind-the-scenes")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _weighted(items) -> tuple[list, list]:
    return [i[:-1] if len(i) > 2 else i[0] for i in items], [i[-1] for i in items]


# Session tuple layout (a tuple, not an object: hundreds of thousands are aggregated per report).
(S_USER, S_CHANNEL, S_SOURCE, S_MEDIUM, S_CAMPAIGN, S_LP, S_LPQ, S_DEVICE, S_COUNTRY, S_CITY, S_NEW,
 S_ENGAGED, S_VIEWS, S_DURATION, S_EVENTS, S_ORDER, S_RANK, S_GROUP, S_CTYPE, S_BROWSER, S_KEY, S_COUPON,
 S_DATE) = range(23)

DAY_NAMES: dict = {}   # YYYYMMDD -> weekday name, filled as days are built (the dayOfWeekName dimension)


class Sessions:
    """The sessions of every property and day (built on first use, then kept), and how much of
    the recent days GA4 has processed so far (the revision)."""

    def __init__(self, world: World, properties: dict[str, dict] = PROPERTIES) -> None:
        self.world = world
        self.properties = properties
        self.today = world.today
        self.revision = 0
        self._days: dict[tuple, list] = {}
        self._web = {}
        for row in world.web_sessions:
            self._web.setdefault(row["date"], []).append(row)
        self._orders: dict[tuple, list] = {}
        for o in world.orders:
            self._orders.setdefault((o.at.date(), o.channel), []).append(o)
        goods = [p for p in world.products if p.kind == "Inventory"]
        self._goods = goods
        self._pages = (["/", "/collections/all", "/pages/about", "/cart"] + [f"/blog/{b}" for b in BLOG_POSTS]
                       + [f"/products/{_slug(p.name)}" for p in goods])

    # -- restatement ----------------------------------------------------------------------------------
    def completeness(self, age: int) -> float:
        if age <= 0:
            return 0.0
        return round(min(1.0, 0.55 + 0.15 * age + 0.2 * self.revision), 4)

    def restate(self, times: int = 1) -> dict:
        """Processing catches up: the incomplete recent days gain sessions (and purchases)."""
        self.revision += int(times)
        return {"revision": self.revision,
                "completeness": {(self.today - dt.timedelta(days=a)).isoformat(): self.completeness(a)
                                 for a in (1, 2, 3)}}

    # what `add_sessions` can set on a session: dimension -> (its place in the session tuple, the
    # longest value GA4 collects: event parameters 100 characters, page_location 1,000)
    EDITABLE_DIMENSIONS = {"landingPage": (S_LP, 1000), "sessionCampaignName": (S_CAMPAIGN, 100),
                           "sessionSource": (S_SOURCE, 100)}

    def add_sessions(self, sessions: list, property_id: str | None = None, days_ago: int = 1) -> dict:
        """Late-processed sessions of a recent day (`days_ago`, inside the taps' restatement window),
        each a copy of one of that day's sessions without a purchase (same user, so user counts hold)
        with the given dimension values: what GA4 reports for real pages and campaigns whose names
        are in any script, as long as GA4 collects them (values beyond its collection limits
        are refused here), or "(not set)". New rows appear in the reports that group by those
        dimensions; the day's totals grow as in a restatement. (Reports memoised before are stale:
        the caller forgets them.)"""
        property_id = property_id or next(iter(self.properties))   # the shop's property
        if property_id not in self.properties:
            raise ValueError(f"unknown property {property_id!r}")
        if days_ago < 1:
            raise ValueError("days_ago must be >= 1 (today has no data yet)")
        day = self.today - dt.timedelta(days=days_ago)
        day_sessions = self.sessions(property_id, day)
        models = [x for x in day_sessions if x[S_ORDER] is None]
        if not models:
            raise ValueError(f"{day} has no session to copy")
        for values in sessions:          # all checked before any is added
            unknown = set(values) - set(self.EDITABLE_DIMENSIONS)
            if unknown:
                raise ValueError(f"dimensions that cannot be set: {sorted(unknown)} "
                                 f"(one of {sorted(self.EDITABLE_DIMENSIONS)})")
            for name, value in values.items():
                if len(str(value)) > self.EDITABLE_DIMENSIONS[name][1]:
                    raise ValueError(f"{name} values longer than {self.EDITABLE_DIMENSIONS[name][1]} characters "
                                     "are not collected by GA4")
        for k, values in enumerate(sessions):
            fields = list(models[k % len(models)])
            for name, value in values.items():
                fields[self.EDITABLE_DIMENSIONS[name][0]] = str(value)
            if "landingPage" in values:
                fields[S_LPQ] = str(values["landingPage"])
            fields[S_RANK] = 0.0          # visible whatever the day's completeness
            day_sessions.append(tuple(fields))
        return {"date": day.isoformat(), "property_id": property_id, "sessions": len(day_sessions)}

    # -- the sessions -----------------------------------------------------------------------------------
    def sessions(self, pid: str, day: dt.date) -> list:
        """The complete session list of a property-day (cached), before restatement cuts."""
        key = (pid, day)
        got = self._days.get(key)
        if got is None:
            got = self._days[key] = self._build_day(pid, day)
        return got

    def visible_sessions(self, pid: str, day: dt.date) -> list:
        """The sessions GA4 has processed so far of a property-day."""
        frac = self.completeness((self.today - day).days)
        if frac <= 0:
            return []
        got = self.sessions(pid, day)
        return got if frac >= 1 else [s for s in got if s[S_RANK] < frac]

    def _build_day(self, pid: str, day: dt.date) -> list:
        prop = self.properties[pid]
        rows = self._web.get(day)
        if not rows:
            return []
        r = random.Random(f"{self.world.seed}:ga4:{pid}:{day.isoformat()}")
        ymd = day.strftime("%Y%m%d")
        DAY_NAMES[ymd] = day.strftime("%A")
        dev_v, dev_w = _weighted(DEVICES)
        cty_v, cty_w = _weighted(COUNTRIES)
        br_v, br_w = _weighted(BROWSERS)
        pages = self._pages
        page_w = [30, 10, 3, 2] + [2] * len(BLOG_POSTS) + [40 / max(1, len(self._goods))] * len(self._goods)
        total = sum(row["sessions"] for row in rows)
        pool = max(20, int(total * 0.9 * prop["factor"]))   # returning visitors come back: users < sessions
        out = []
        for row in rows:
            ch = row["channel"]
            orders = self._orders.get((day, ch), []) if prop["shop"] else []
            n = max(len(orders), int(round(row["sessions"] * prop["factor"])))
            src_v, src_w = _weighted(SOURCES[ch])
            for i in range(n):
                order = orders[i] if i < len(orders) else None
                source, medium, campaign = r.choices(src_v, src_w)[0]
                if order is not None and order.lines:
                    lp = f"/products/{_slug(self.world.products[order.lines[0][0]].name)}"
                else:
                    lp = r.choices(pages, page_w)[0]
                if medium == "cpc":
                    lpq = f"{lp}?gclid={r.getrandbits(40):010x}"
                elif medium == "email":
                    lpq = f"{lp}?utm_campaign={campaign}&mc_eid={r.getrandbits(32):08x}"
                elif source in ("instagram.com", "facebook.com"):
                    lpq = f"{lp}?fbclid={r.getrandbits(36):09x}"
                else:
                    lpq = lp
                new = 1 if r.random() < 0.38 else 0
                user = (r.getrandbits(48) | (1 << 50)) if new else r.randrange(pool)
                country = r.choices(cty_v, cty_w)[0]
                city = r.choice(CITIES[country]) if country in CITIES else "(not set)"
                engaged = 1 if (order is not None or r.random() < 0.62) else 0
                views = 1 + (int(r.expovariate(0.45)) if engaged else 0) + (4 if order else 0)
                duration = int(r.expovariate(1 / 95)) + (240 if order else 0) if engaged else r.randrange(0, 9)
                lead = 1 if r.random() < 0.015 else 0
                events = [("session_start", 1), ("page_view", views)]
                if new:
                    events.append(("first_visit", 1))
                if engaged:
                    events.append(("user_engagement", max(1, views - 1)))
                    if views > 2:
                        events.append(("scroll", views // 2))
                if lp.startswith("/products/") or order is not None:
                    events.append(("view_item", 1 + (views // 3)))
                    if order is not None or r.random() < 0.08:
                        events.append(("add_to_cart", 1))
                if order is not None:
                    events += [("begin_checkout", 1), ("purchase", 1)]
                if lead:
                    events.append(("generate_lead", 1))
                group = ("home" if lp == "/" else lp.split("/")[1].rstrip("s") or "other")
                coupon = int(order.subtotal * 0.1) if order is not None and r.random() < 0.2 else 0
                out.append((user, ch, source, medium, campaign, lp, lpq, r.choices(dev_v, dev_w)[0], country, city,
                            new, engaged, views, duration, tuple(events), order, r.random(), group,
                            "returning" if not new else ("customer" if order else "prospect"),
                            r.choices(br_v, br_w)[0], (1 if order else 0) + lead, coupon, ymd))
        return out

    def items(self, order) -> list:
        """An order's lines as GA4's item facts: (itemName, itemId, itemCategory, quantity, price in cents)."""
        prods = self.world.products
        return [(prods[p].name, prods[p].sku, prods[p].name.split()[1] if len(prods[p].name.split()) > 1 else "Goods",
                 q, price) for p, q, price in order.lines]
