"""One synthetic small business, seen through four systems (QuickBooks, Attio, Shopify, GA4).

`build_world(seed, scale, today, mess)` returns a `World`: the business as it really is
(companies, people, products, deals, shop orders, web sessions, invoices, expenses) plus, for each
system, the identity *as that system records it* (case-mangled e-mails, plus-aliases, Gmail dots,
old company names, country-TLD domains, duplicate QuickBooks customers). `World.truth()` says
which system records are the same customer and what the expected totals are.

`mess` adds what real businesses type on top (MESS_LEVELS: none, the default and the demo's;
realistic; heavy, three times the realistic rates): people in one system only, Apple and Proton
accounts under another of their domains, several addresses or a display name in one QuickBooks
e-mail field, websites typed as URLs, phone numbers in each system's own format (national,
international, with extensions), shop customers without an e-mail or a name. It draws from its
own random streams, so a world without mess is the same as before it existed.

Determinism: every entity family draws from its own `random.Random(f"{seed}:{family}")`
(string seeds are hashed with SHA-512, independent of PYTHONHASHSEED), loops run over lists in
index order, and nothing reads the wall clock: history is the ~two years ending the day before
`today`. Money is integer cents everywhere; vendor modules format it.

Scale 1.0 is demo size; counts grow linearly with `scale`. Families are generated lazily
(cached properties) so a caller that needs only orders does not pay for invoices.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cached_property

HISTORY_DAYS = 730

FIRST = ("Ava Ben Chloe Dan Ella Finn Grace Hugo Iris Jack Kara Liam Maya Noah Olive Paul Quinn Rosa "
         "Sam Tara Uma Victor Wren Xena Yusuf Zoe Aaron Bella Carlos Dana Eli Fatima Gabe Hana Ivan "
         "Jade Kofi Lena Marco Nina Omar Priya Ravi Sofia Theo Vera Will Yara").split()
LAST = ("Smith Jones Brown Garcia Miller Davis Lopez Wilson Moore Taylor Clark Lewis Walker Hall "
        "Young King Wright Scott Green Baker Adams Nelson Carter Mitchell Perez Roberts Turner "
        "Phillips Campbell Parker Evans Edwards Collins Stewart Morris Rogers Reed Cook Morgan Bell "
        "Murphy Bailey Rivera Cooper Cox Ward Torres Peterson Gray Ramirez").split()
CO_A = ("Blue Red Green Silver Golden North South East West Bright Swift Clear Prime True Bold "
        "Urban Alpine Coastal Summit Harbor Cedar Maple Iron Copper Lunar Solar Atlas Nova").split()
CO_B = ("River Peak Forge Works Labs Logic Field Stone Bridge Craft Path Wave Point Grove Leaf "
        "Signal Metrics Systems Studio Foods Goods Supply Partners Digital Health Freight").split()
CO_SUFFIX = ("Inc", "LLC", "Ltd", "Co", "Group", "GmbH")
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com")
COUNTRY_TLDS = (".co.uk", ".de", ".ca", ".com.au", ".fr")
CHANNELS = ("Organic Search", "Paid Search", "Direct", "Email", "Organic Social", "Referral")
PRODUCT_NOUNS = ("Tea", "Mug", "Notebook", "Candle", "Backpack", "Bottle", "Blanket", "Lamp",
                 "Planter", "Scarf", "Apron", "Tote", "Journal", "Coaster", "Poster")
PRODUCT_ADJ = ("Classic", "Organic", "Deluxe", "Mini", "Travel", "Studio", "Heritage", "Everyday")
SERVICES = (("Consulting Hours", 15000), ("Onboarding Package", 250000), ("Support Plan (monthly)", 49900),
            ("Custom Design", 120000), ("Workshop Day", 180000), ("Maintenance Retainer", 75000))
HOURLY_SERVICE = "Consulting Hours"   # billed by the half hour: quantities 1, 1.5, 2, … 8.5
EXPENSE_CATEGORIES = (  # (category, typical amount cents, share of expense records, usually paid by)
    ("Advertising", 60000, 0.18, "card"), ("Rent or Lease", 450000, 0.05, "bill"),
    ("Software & Subscriptions", 12000, 0.20, "card"), ("Utilities", 30000, 0.07, "bill"),
    ("Office Supplies", 8000, 0.15, "card"), ("Travel", 45000, 0.08, "card"),
    ("Contractors", 220000, 0.10, "bill"), ("Inventory Purchases", 380000, 0.17, "bill"),
)
VENDOR_NAMES = ("Adwords Media", "Cloud Hosting Co", "City Power & Light", "Office Depot Plus",
                "Skyline Airlines", "Brightline Contractors", "Paper & Ink Supply", "Harbor Landlord LLC",
                "Metro Telecom", "Wholesale Goods Ltd", "Design Freelancers", "Shipping Partners")


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass(slots=True)
class Company:
    idx: int
    uid: str                      # unified customer id (ground truth)
    name: str                     # current name
    old_name: str | None          # name before a rename during the period (QuickBooks keeps it)
    renamed_on: dt.date | None
    domain: str                   # canonical web domain
    domains: dict                 # per-system domain as recorded ({"quickbooks": ..., "attio": ..., "shopify": ...})
    is_customer: bool             # invoiced in QuickBooks
    created: dt.datetime


@dataclass(slots=True)
class Person:
    idx: int
    uid: str
    first: str
    last: str
    email: str                    # canonical, lower-case
    company: int | None           # Company.idx, None for B2C shoppers
    emails: dict                  # per-system e-mail as typed there (None: not given there)
    created: dt.datetime
    phones: dict = field(default_factory=dict)   # per-system phone as typed there (mess only)
    only_in: str | None = None    # "quickbooks" | "shopify": a customer the CRM never got (mess only)
    unnamed_in: tuple = ()        # systems where no name was typed (mess only)


@dataclass(slots=True)
class Product:
    idx: int
    name: str
    sku: str
    kind: str                     # "Inventory" (shop goods) | "Service"
    price: int                    # cents
    cost: int                     # cents (0 for services)


@dataclass(slots=True)
class Deal:
    idx: int
    company: int
    contact: int | None           # Person.idx
    name: str
    amount: int
    stage: str
    created: dt.datetime
    closed: dt.date | None


@dataclass(slots=True)
class Order:
    idx: int
    person: int
    at: dt.datetime
    channel: str
    lines: list                   # [(product idx, qty, unit price cents)]
    shipping: int
    tax: int
    refunded: bool
    refunded_at: dt.datetime | None

    @property
    def subtotal(self) -> int:
        return sum(q * p for _, q, p in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping + self.tax


@dataclass(slots=True)
class Invoice:
    idx: int
    customer: str                 # unified customer id (company or individual)
    billed_as: int                # index into World.qbo_customers (which duplicate got the invoice)
    date: dt.date
    terms_days: int
    lines: list                   # [(product idx, qty, unit price cents)]; hours may be half (1.5)
    tax_rate_bp: int              # basis points, 0 = not taxable; only goods are taxed
    payments: list                # [(date, amount cents)]
    created: dt.datetime
    tax: int = 0                  # cents, set by the generator from the taxable (goods) lines

    @property
    def subtotal(self) -> int:
        return sum(round(q * p) for _, q, p in self.lines)

    def taxable(self, products: list) -> int:
        return sum(round(q * p) for i, q, p in self.lines if products[i].kind == "Inventory") if self.tax_rate_bp else 0

    @property
    def total(self) -> int:
        return self.subtotal + self.tax


@dataclass(slots=True)
class Expense:
    idx: int
    vendor: int
    category: str
    date: dt.date
    amount: int
    paid_by: str                  # "bill" (on account, paid later) | "card" | "cash"
    paid_on: dt.date | None       # bill payment date, None if still open


@dataclass(slots=True)
class QboCustomer:
    """A customer row as the bookkeeper typed it into QuickBooks (duplicates included)."""
    idx: int
    uid: str
    display_name: str
    company_name: str | None
    given: str | None
    family: str | None
    email: str | None
    web: str | None
    active: bool
    created: dt.datetime
    phone: str | None = None


@dataclass
class World:
    seed: int
    scale: float
    today: dt.date
    companies: list = field(default_factory=list)
    people: list = field(default_factory=list)
    products: list = field(default_factory=list)
    vendors: list = field(default_factory=list)
    qbo_customers: list = field(default_factory=list)
    mess: str = "none"

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def start(self) -> dt.date:
        return self.today - dt.timedelta(days=HISTORY_DAYS)

    def n(self, base: float, minimum: int = 1) -> int:
        return max(minimum, int(round(base * self.scale)))

    def rng(self, family: str) -> random.Random:
        return random.Random(f"{self.seed}:{family}")

    def _moment(self, r: random.Random, day: dt.date) -> dt.datetime:
        """A UTC moment on `day` during (US) business hours, always before `today`."""
        secs = r.randrange(15 * 3600, 24 * 3600)  # 07:00–16:00 Pacific
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=secs)

    def _day(self, r: random.Random, lo: int = 0, hi: int = HISTORY_DAYS) -> dt.date:
        # Growth: later days are a little likelier (sqrt skew), like a business that grows.
        d = lo + int((hi - lo) * (r.random() ** 0.8))
        return self.start + dt.timedelta(days=min(d, HISTORY_DAYS - 1))

    # ---- lazily generated families -----------------------------------------------------------
    @cached_property
    def deals(self) -> list[Deal]:
        r = self.rng("deals")
        stages = ("lead", "qualified", "proposal", "won", "lost")
        weights = (0.15, 0.15, 0.15, 0.35, 0.20)
        out = []
        for i in range(self.n(300)):
            co = self.companies[r.randrange(len(self.companies))]
            contacts = self._company_people.get(co.idx, [])
            day = self._day(r)
            stage = r.choices(stages, weights)[0]
            closed = None
            if stage in ("won", "lost"):
                closed = min(day + dt.timedelta(days=r.randint(7, 90)), self.today - dt.timedelta(days=1))
            out.append(Deal(i, co.idx, contacts[r.randrange(len(contacts))] if contacts else None,
                            f"{co.name} – {r.choice(SERVICES)[0]}", r.randrange(200000, 5000000, 100),
                            stage, self._moment(r, day), closed))
        return out

    @cached_property
    def orders(self) -> list[Order]:
        r = self.rng("orders")
        goods = [p for p in self.products if p.kind == "Inventory"]
        buyers = [p.idx for p in self.people if p.only_in != "quickbooks"]   # everyone, without mess
        shoppers = [i for i in buyers if self.people[i].company is None]
        out = []
        for i in range(self.n(3000)):
            # 85% of orders come from B2C shoppers, the rest from people at companies.
            person = shoppers[r.randrange(len(shoppers))] if r.random() < 0.85 else buyers[r.randrange(len(buyers))]
            at = self._moment(r, self._day(r))
            lines = []
            used = set()
            for _ in range(1 + int(r.random() ** 2 * 4)):
                prod = goods[r.randrange(len(goods))]
                if prod.idx in used:
                    continue
                used.add(prod.idx)
                lines.append((prod.idx, 1 + int(r.random() ** 3 * 4), prod.price))
            sub = sum(q * p for _, q, p in lines)
            shipping = 0 if sub >= 7500 else 599
            tax = (sub * 725 + 5000) // 10000
            refunded = r.random() < 0.03
            ref_at = at + dt.timedelta(days=r.randint(2, 20)) if refunded else None
            if ref_at and ref_at.date() >= self.today:
                refunded, ref_at = False, None
            out.append(Order(i, person, at, r.choices(CHANNELS, (30, 15, 25, 12, 10, 8))[0], lines,
                             shipping, tax, refunded, ref_at))
        out.sort(key=lambda o: (o.at, o.idx))
        return out

    @cached_property
    def invoices(self) -> list[Invoice]:
        r = self.rng("invoices")
        services = [p for p in self.products if p.kind == "Service"]
        goods = [p for p in self.products if p.kind == "Inventory"]
        # Which QuickBooks customer rows bill which unified customer (duplicates get ~20%).
        rows_by_uid: dict[str, list[int]] = {}
        for qc in self.qbo_customers:
            rows_by_uid.setdefault(qc.uid, []).append(qc.idx)
        billable = [uid for uid in sorted(rows_by_uid)]
        out = []
        for i in range(self.n(1500)):
            uid = billable[r.randrange(len(billable))]
            rows = rows_by_uid[uid]
            billed_as = rows[0] if len(rows) == 1 or r.random() < 0.8 else rows[1]
            created_after = self.qbo_customers[billed_as].created.date()
            span = (self.today - created_after).days
            day = created_after + dt.timedelta(days=int(span * (r.random() ** 0.8))) if span > 1 else created_after
            day = min(day, self.today - dt.timedelta(days=1))
            lines = []
            for _ in range(1 + int(r.random() ** 2 * 3)):
                prod = services[r.randrange(len(services))] if r.random() < 0.8 else goods[r.randrange(len(goods))]
                if prod.name == HOURLY_SERVICE:
                    halves = 2 + int(r.random() ** 2 * 16)
                    qty = halves // 2 if halves % 2 == 0 else halves / 2
                else:
                    qty = 1 + int(r.random() ** 2 * (8 if prod.kind == "Service" else 20))
                lines.append((prod.idx, qty, prod.price))
            terms = r.choice((15, 30, 30, 30, 60))
            inv = Invoice(i, uid, billed_as, day, terms, lines, r.choice((0, 0, 825)), [], self._moment(r, day))
            inv.tax = (inv.taxable(self.products) * inv.tax_rate_bp + 5000) // 10000
            total = inv.total
            fate = r.random()
            pay_day = day + dt.timedelta(days=r.randint(3, terms + 25))
            if pay_day < self.today:
                if fate < 0.82:
                    inv.payments.append((pay_day, total))
                elif fate < 0.90:
                    part = (total * r.randint(20, 70) // 100)
                    inv.payments.append((pay_day, part))
                    later = pay_day + dt.timedelta(days=r.randint(10, 40))
                    if later < self.today and r.random() < 0.5:
                        inv.payments.append((later, total - part))
            out.append(inv)
        out.sort(key=lambda v: (v.created, v.idx))
        return out

    @cached_property
    def expenses(self) -> list[Expense]:
        r = self.rng("expenses")
        cats = [c for c, *_ in EXPENSE_CATEGORIES]
        shares = [s for _, _, s, _ in EXPENSE_CATEGORIES]
        typical = {c: a for c, a, _, _ in EXPENSE_CATEGORIES}
        payer = {c: p for c, _, _, p in EXPENSE_CATEGORIES}
        out = []
        for i in range(self.n(900)):
            cat = r.choices(cats, shares)[0]
            day = self._day(r)
            amount = max(500, int(typical[cat] * (0.4 + r.random() * 1.2)))
            paid_by = payer[cat] if r.random() < 0.9 else ("cash" if payer[cat] == "card" else "card")
            paid_on = None
            if paid_by == "bill":
                pd = day + dt.timedelta(days=r.randint(5, 45))
                paid_on = pd if pd < self.today else None
            out.append(Expense(i, r.randrange(len(self.vendors)), cat, day, amount, paid_by, paid_on))
        out.sort(key=lambda e: (e.date, e.idx))
        return out

    @cached_property
    def web_sessions(self) -> list[dict]:
        """GA4-like daily rows per channel; conversions/revenue are the shop orders of that day."""
        r = self.rng("web")
        conv: dict[tuple, list[int]] = {}
        for o in self.orders:
            key = (o.at.date(), o.channel)
            acc = conv.setdefault(key, [0, 0])
            acc[0] += 1
            acc[1] += o.total
        out = []
        for d in range(HISTORY_DAYS):
            day = self.start + dt.timedelta(days=d)
            for ch_i, ch in enumerate(CHANNELS):
                c, rev = conv.get((day, ch), (0, 0))
                base = self.scale * (40 + 60 * d / HISTORY_DAYS) * (1.0 - 0.1 * ch_i)
                sessions = max(c, int(base * (0.7 + r.random() * 0.6)) + c * 30)
                out.append({"date": day, "channel": ch, "sessions": sessions,
                            "users": int(sessions * (0.7 + r.random() * 0.2)),
                            "conversions": c, "revenue": rev})
        return out

    @cached_property
    def _company_people(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for p in self.people:
            if p.company is not None:
                out.setdefault(p.company, []).append(p.idx)
        return out

    # ---- ground truth ------------------------------------------------------------------------
    def customer_of_person(self, p: Person) -> str:
        return self.companies[p.company].uid if p.company is not None else p.uid

    def truth(self) -> dict:
        """Identity map and totals a test can hold the warehouse against."""
        identity: dict[str, dict] = {}

        def ent(uid):
            return identity.setdefault(uid, {"quickbooks_customer_ids": [], "shopify_customer_ids": [],
                                             "attio_company_ids": [], "attio_person_ids": [],
                                             "emails": []})
        for c in self.companies:
            e = ent(c.uid)
            e.update(kind="company", name=c.name, former_name=c.old_name, domain=c.domain)
            e["attio_company_ids"].append(attio_company_id(self, c))
        for p in self.people:
            e = ent(self.customer_of_person(p))
            if p.company is None:
                e.update(kind="person", name=f"{p.first} {p.last}")
            e["emails"].append(p.email)
            if p.only_in is None:
                e["attio_person_ids"].append(attio_person_id(self, p))
        shoppers = sorted({o.person for o in self.orders})
        for pi in shoppers:
            ent(self.customer_of_person(self.people[pi]))["shopify_customer_ids"].append(shopify_customer_id(pi))
        for qc in self.qbo_customers:
            ent(qc.uid)["quickbooks_customer_ids"].append(str(qc.idx + 1))
        inv_month: dict[str, int] = {}
        open_ar = 0
        for inv in self.invoices:
            m = inv.date.strftime("%Y-%m")
            inv_month[m] = inv_month.get(m, 0) + inv.total
            open_ar += inv.total - sum(a for _, a in inv.payments)
        orders_month: dict[str, int] = {}
        for o in self.orders:
            m = o.at.strftime("%Y-%m")
            orders_month[m] = orders_month.get(m, 0) + o.total
        return {
            "seed": self.seed, "scale": self.scale, "today": self.today.isoformat(), "mess": self.mess,
            "counts": {"companies": len(self.companies), "people": len(self.people),
                       "products": len(self.products), "deals": len(self.deals),
                       "shop_orders": len(self.orders), "invoices": len(self.invoices),
                       "expenses": len(self.expenses), "web_session_rows": len(self.web_sessions),
                       "quickbooks_customers": len(self.qbo_customers)},
            "customers": dict(sorted(identity.items())),
            "quickbooks_duplicate_customers": sorted(
                uid for uid, e in identity.items() if len(e["quickbooks_customer_ids"]) > 1),
            "renamed_companies": [{"uid": c.uid, "old": c.old_name, "new": c.name,
                                   "renamed_on": c.renamed_on.isoformat()} for c in self.companies if c.old_name],
            "invoice_totals_by_month": {k: cents(v) for k, v in sorted(inv_month.items())},
            "open_ar": cents(open_ar),
            "shop_order_totals_by_month": {k: cents(v) for k, v in sorted(orders_month.items())},
        }


def cents(v: int) -> float:
    """Integer cents → JSON number with at most two decimals (exact via round-trip repr)."""
    return round(v / 100, 2)


# Stable per-system ids (derived from indexes so they never depend on generation order).
def shopify_customer_id(person_idx: int) -> str:
    return str(6_200_000_000_000 + person_idx * 7 + 1)


def attio_company_id(w: World, c: Company) -> str:
    return _uuid(w.seed, "co", c.idx)


def attio_person_id(w: World, p: Person) -> str:
    return _uuid(w.seed, "pe", p.idx)


def _uuid(seed: int, kind: str, idx: int) -> str:
    h = random.Random(f"{seed}:{kind}:{idx}").getrandbits(128)
    s = f"{h:032x}"
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:32]}"


def _mangle_case(email: str, r: random.Random) -> str:
    local, _, dom = email.partition("@")
    return local.title().replace(".", ".") + "@" + (dom.capitalize() if r.random() < 0.5 else dom)


def build_world(seed: int = 42, scale: float = 1.0, today: dt.date | None = None, mess: str = "none") -> World:
    if today is None:
        today = dt.datetime.now(dt.timezone.utc).date()
    if scale <= 0:
        raise ValueError("scale must be > 0")
    if mess not in MESS_LEVELS:
        raise ValueError(f"mess must be one of {', '.join(MESS_LEVELS)} (got {mess!r})")
    w = World(seed=seed, scale=scale, today=today, mess=mess)

    # Companies: unique names; ~8% renamed mid-period; some domains differ per system.
    r = w.rng("companies")
    seen: set[str] = set()
    for i in range(w.n(150)):
        base = f"{r.choice(CO_A)} {r.choice(CO_B)}"
        name = base if base not in seen else f"{base} {i}"
        seen.add(name)
        full = f"{name} {r.choice(CO_SUFFIX)}"
        domain = _slug(name) + ".com"
        created = w._moment(r, w.start + dt.timedelta(days=r.randrange(0, HISTORY_DAYS // 2)))
        old_name = renamed_on = None
        if r.random() < 0.08:
            old_name, full = full, f"{r.choice(CO_A)} {name.split()[-1]} {i} {r.choice(CO_SUFFIX)}"
            renamed_on = w.start + dt.timedelta(days=r.randrange(HISTORY_DAYS // 2, HISTORY_DAYS - 1))
        domains = {"quickbooks": domain, "attio": domain, "shopify": domain}
        roll = r.random()
        if roll < 0.10:
            domains["quickbooks"] = domain[:-4] + r.choice(COUNTRY_TLDS)   # acme.co.uk in the books
        elif roll < 0.18:
            domains["attio"] = "app." + domain                             # product subdomain in the CRM
        w.companies.append(Company(i, f"co_{i:06d}", full, old_name, renamed_on, domain, domains,
                                   r.random() < 0.7, created))

    # People: ~75% work at a company, the rest are B2C shoppers with personal e-mail.
    r = w.rng("people")
    for i in range(w.n(600)):
        first, last = r.choice(FIRST), r.choice(LAST)
        if r.random() < 0.75:
            co = r.randrange(len(w.companies))
            email = f"{first}.{last}{i}@{w.companies[co].domain}".lower()
        else:
            co = None
            email = f"{first}{last}{i}@{r.choice(PERSONAL_DOMAINS)}".lower()
        local, _, dom = email.partition("@")
        shop, crm, books = email, email, email
        roll = r.random()
        if roll < 0.10:
            shop = f"{local}+shop@{dom}"                                   # plus-alias at checkout
        elif roll < 0.18 and dom == "gmail.com":
            cut = max(1, len(local) // 2)
            shop = f"{local[:cut]}.{local[cut:]}@{dom}"                    # Gmail ignores dots
        if r.random() < 0.15:
            books = _mangle_case(email, r)                                 # Jane.Doe@Acme.com
        if r.random() < 0.05:
            crm = email.upper()
        created = w._moment(r, w._day(r, 0, HISTORY_DAYS - 30))
        w.people.append(Person(i, f"pe_{i:06d}", first, last, email, co,
                               {"shopify": shop, "attio": crm, "quickbooks": books}, created))

    if MESS_LEVELS[mess]:
        _mess_people(w, MESS_LEVELS[mess])

    # Products: shop goods (inventory) and billable services.
    r = w.rng("products")
    for i, (svc, price) in enumerate(SERVICES):
        w.products.append(Product(i, svc, f"SVC-{i + 1:03d}", "Service", price, 0))
    for j in range(w.n(40, 8)):
        name = f"{r.choice(PRODUCT_ADJ)} {r.choice(PRODUCT_NOUNS)} {j + 1}"
        price = r.randrange(900, 12000, 100) - 1
        w.products.append(Product(len(w.products), name, f"SKU-{j + 1:05d}", "Inventory", price,
                                  int(price * (0.3 + r.random() * 0.25))))

    w.vendors = [v for v in VENDOR_NAMES] + [f"Vendor {k}" for k in range(max(0, w.n(12) - len(VENDOR_NAMES)))]

    # QuickBooks customers: customer companies (under their OLD name if renamed), some
    # individuals, ~4% of companies entered twice ("Acme Inc" and "Acme Inc."), a few inactive.
    r = w.rng("qbo_customers")
    people_by_co = w._company_people
    rows: list[QboCustomer] = []
    for c in w.companies:
        if not c.is_customer:
            continue
        contact = w.people[people_by_co[c.idx][0]] if c.idx in people_by_co else None
        shown = c.old_name or c.name
        email = contact.emails["quickbooks"] if contact else None
        rows.append(QboCustomer(len(rows), c.uid, shown, shown, contact.first if contact else None,
                                contact.last if contact else None, email, "https://www." + c.domains["quickbooks"],
                                r.random() > 0.03, c.created))
        if r.random() < 0.04:
            rows.append(QboCustomer(len(rows), c.uid, shown + ".", shown, None, None,
                                    email.upper() if email else None, None, True,
                                    c.created + dt.timedelta(days=r.randint(30, 200))))
    for p in w.people:
        if p.only_in is None and p.company is None and r.random() < 0.08:
            rows.append(QboCustomer(len(rows), p.uid, f"{p.first} {p.last}", None, p.first, p.last,
                                    p.emails["quickbooks"], None, True, p.created))
    if MESS_LEVELS[mess]:
        _mess_quickbooks(w, rows, MESS_LEVELS[mess])
    # Keep only customers created before today (duplicates may land after it).
    w.qbo_customers = [q for q in rows if q.created.date() < today]
    for k, q in enumerate(w.qbo_customers):
        q.idx = k
    return w


# ---- what real businesses type (build_world's `mess`) ----------------------------------------------
MESS_LEVELS = {"none": 0.0, "realistic": 1.0, "heavy": 3.0}   # multiplier of the realistic rates
# Providers whose other domains reach the same account: (the address people sign up with, others)
ACCOUNT_DOMAINS = (("icloud.com", ("me.com", "mac.com")), ("proton.me", ("pm.me", "protonmail.com")))
# Phone numbers: (country code, national number digits as drawn, share of people)
PHONE_COUNTRIES = (("1", 0.70), ("44", 0.20), ("49", 0.10))


def _chance(r: random.Random, rate: float, share: float) -> bool:
    return r.random() < min(1.0, share * rate)


def _phone_formats(r: random.Random) -> dict:
    """One person's number, as each system records it: the CRM international and spaced, the
    shop E.164, the books mostly national (a trunk 0, brackets, dots), sometimes with an 00 or
    a (0), sometimes with an extension."""
    country = r.choices([c for c, _ in PHONE_COUNTRIES], [w for _, w in PHONE_COUNTRIES])[0]
    if country == "1":
        area, exchange, line = r.randint(201, 989), r.randint(200, 999), r.randint(0, 9999)
        national = f"{area}{exchange}{line:04d}"
        crm = f"+1 ({area}) {exchange}-{line:04d}"
        books = r.choice((f"({area}) {exchange}-{line:04d}", f"{area}.{exchange}.{line:04d}",
                          f"1-{area}-{exchange}-{line:04d}", f"+1 {area} {exchange} {line:04d}"))
    else:
        national = ("7" + f"{r.randint(0, 999_999_999):09d}" if country == "44"
                    else "30" + f"{r.randint(0, 99_999_999):08d}")
        head, tail = (national[:4], national[4:]) if country == "44" else (national[:2], national[2:])
        crm = f"+{country} {head} {tail}"
        books = r.choice((f"0{head} {tail}", f"(0{head}) {tail}", f"00{country} {head} {tail}",
                          f"+{country} (0){head} {tail}"))
    if r.random() < 0.1:
        books += r.choice((" ext. 12", " x204", " #3"))
    return {"attio": crm, "shopify": f"+{country}{national}", "quickbooks": books}


def _mess_people(w: World, rate: float) -> None:
    """Before anything reads the people: customers the CRM never got, provider domains, phones,
    shop customers without an e-mail or a name."""
    r = w.rng("mess:people")
    # Walk-in clients only the books know, and shoppers only the shop knows (B2C, never in the CRM).
    for k in range(w.n(20 * rate, 1)):
        i = len(w.people)
        first, last = r.choice(FIRST), r.choice(LAST)
        email = f"{first}{last}{i}@{r.choice(PERSONAL_DOMAINS)}".lower()
        created = w._moment(r, w._day(r, 0, HISTORY_DAYS - 30))
        w.people.append(Person(i, f"pe_{i:06d}", first, last, email, None,
                               {"shopify": email, "attio": email, "quickbooks": email}, created,
                               only_in="quickbooks" if k % 2 == 0 else "shopify"))
    for p in w.people:
        if p.company is None and _chance(r, rate, 0.10):   # an Apple or Proton account
            home, others = r.choice(ACCOUNT_DOMAINS)
            local = p.email.split("@")[0]
            p.email = f"{local}@{home}"
            p.emails = {system: p.email for system in p.emails}
            p.emails["shopify"] = f"{local}@{r.choice(others)}"   # typed under another of its domains
        if _chance(r, rate, 0.45):
            p.phones = _phone_formats(r)
            if p.only_in is None and p.company is None and _chance(r, rate, 0.05):
                p.emails["shopify"] = None    # a guest checkout with a phone number only
        if _chance(r, rate, 0.03):
            p.unnamed_in = ("shopify",)       # a checkout without a name


def _mess_quickbooks(w: World, rows: list, rate: float) -> None:
    """The books as a bookkeeper types them: walk-in clients the CRM never got, several addresses
    or a display name in one e-mail field, stray punctuation, websites as URLs, phone numbers."""
    r = w.rng("mess:quickbooks")
    for p in w.people:
        if p.only_in == "quickbooks":
            rows.append(QboCustomer(len(rows), p.uid, f"{p.first} {p.last}", None, p.first, p.last,
                                    p.emails["quickbooks"], None, True, p.created))
    by_uid = {p.uid: p for p in w.people}
    for row in rows:
        person = by_uid.get(row.uid)
        if person is not None and person.phones:
            row.phone = person.phones["quickbooks"]
        if row.email and _chance(r, rate, 0.08):
            shown = f'"{row.family}, {row.given}"' if row.family else (row.company_name or row.display_name)
            row.email = f"{shown} <{row.email}>"
        elif row.email and _chance(r, rate, 0.05):
            if row.company_name and row.web:
                row.email = f"{row.email}, accounts@{row.web.removeprefix('https://www.')}"   # a billing list
            elif person is not None:
                row.email = f"{row.email}; {person.first}.{person.last}.home@gmail.com".lower()
        elif row.email and _chance(r, rate, 0.04):
            row.email = r.choice(("{}.", "mailto:{}", "({})", " {} ;")).format(row.email)
        if row.web and _chance(r, rate, 0.30):
            domain = row.web.removeprefix("https://www.")
            row.web = r.choice((f"HTTP://WWW.{domain.upper()}./contact?ref=qbo", f"{domain}/",
                                f"Www.{domain.title()}", f"https://{domain}/#about"))
