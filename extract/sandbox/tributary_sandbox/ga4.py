"""Google Analytics 4 Data API v1beta, simulated over the shared world (`world.py`).

What it serves (under `/ga4`, so a client's api_url is `http://127.0.0.1:<port>/ga4`):
  POST /ga4/v1beta/properties/{id}:runReport    dateRanges, dimensions, metrics, dimensionFilter,
                                                metricFilter, orderBys, limit, offset,
                                                keepEmptyRows, returnPropertyQuota
  GET  /ga4/v1beta/properties/{id}/metadata     dimensions and metrics, custom definitions included
  POST /ga4/token                               OAuth 2 token endpoint (service-account JWT bearer
                                                grant, refresh-token grant)

Requests are read as Google's clients send them over REST: proto-JSON with lowerCamel names (the
proto's snake_case names are accepted too), int64 fields as strings (`"limit": "100000"`), enums as
names or numbers. Unknown fields answer 400 `Invalid JSON payload received. Unknown name "x"`.
Every value in an answer is a string, `date` is YYYYMMDD, an empty report has no `rows` (and no
`rowCount`), errors are Google's `{"error": {"code", "message", "status"}}`.

Properties (both readable with every sandbox credential):
  412345678  "Tributary Shop (web)"  the world's web sessions; purchases ARE the world's shop orders
  412345679  "Tributary Blog"        half the traffic, no e-commerce

Data model. Each property/day is a list of synthetic sessions built from `World.web_sessions`
(sessions per channel and day) and `World.orders`: every shop order of that day and channel is
attached to one session of that channel, so `ecommercePurchases`/`transactions` per day and channel
equal the number of shop orders and `totalRevenue`/`purchaseRevenue` equal their totals (cents /
100, tax and shipping included; `itemRevenue` is the line subtotal). `transactionId` is
`str(1001 + order.idx)`. Users are approximate (a returning-visitor pool; `totalUsers` is the count
of distinct user ids in each row, so it is not additive, as in GA4). Three fact tables decide what
can be combined: session-scoped (every session dimension/metric), events (`eventName` + event
metrics) and items (`itemName`, `itemId`, `itemCategory` + item metrics); mixing event and item
fields answers 400 "...incompatible".

Restatement. The last days are incomplete, as in GA4 (24–48 h processing): a day `a` days before
`today` shows a fraction of its sessions, frac(a, revision) = min(1, 0.55 + 0.15 a + 0.2 revision)
(a=1: 70 %, a=2: 85 %, a>=3: 100 % at revision 0). `restate()` (POST /_sandbox/ga4/restate) bumps
the revision: recent figures grow until they are complete. Days >= today have no data.

Data-loss signals. A report with more than `other_row_limit` rows for one date (default 250)
keeps the largest `limit-1` and folds the rest into one "(other)" row (`metadata.
dataLossFromOtherRow: true`). A report with a user metric and a demographic dimension (country,
city) is `subjectToThresholding: true` and withholds rows with fewer than 3 users. With
`sampling_above_days` set, reports spanning more days carry `samplingMetadatas`.

Quota (per property, returned as `propertyQuota` when asked). Tokens charged per runReport:
    5 + 2 * ceil(days in the date ranges / 7) + ceil(rows in the returned page / 1000)
      + 2 if a dimension or metric filter is used
so a one-day report costs 8, a 7-day report of 1,500 rows 9, a 365-day one 111+. Budgets are
Google's standard-property ones: tokensPerDay 200,000 (resets at midnight America/Los_Angeles),
tokensPerHour 40,000, tokensPerProjectPerHour 14,000 (reset on the hour, sandbox clock),
concurrentRequests 10, potentiallyThresholdedRequestsPerHour 120, serverErrorsPerProjectPerHour
10 (reported only). A request is refused when a budget is already spent: 429 RESOURCE_EXHAUSTED,
e.g. "Exhausted property tokens for a project per hour. These quota tokens will return in under
an hour." `set_quota` (POST /_sandbox/ga4/quota) sets what remains.

Auth. A sandbox service-account key (RSA 2048, made at start; `service_account_key(base_url)`,
GET /_sandbox/ga4/service-account-key, or written by `write_service_account_key(path, base_url)`)
whose `token_uri` points at `/ga4/token`; the JWT's RS256 signature is verified against that key's
public key, `iss` must be its client_email, `aud` its token_uri, exp-iat <= 1 h. OAuth client:
    client_id     OAUTH_CLIENT_ID      = "1093-tributary-sandbox.apps.googleusercontent.com"
    client_secret OAUTH_CLIENT_SECRET  = "GOCSPX-tributary-sandbox-secret"
    refresh_token OAUTH_REFRESH_TOKEN  = "1//tributary-sandbox-ga4-refresh-token"
Access tokens live 3600 s of sandbox clock, then 401 UNAUTHENTICATED. POST /_sandbox/ga4/token
mints one directly (for the `access_token` setting).

Faults (POST /_sandbox/ga4/faults): next N requests answer 500 (`server_error`), 503
(`unavailable`), 429 concurrentRequests (`concurrent`), or drop the connection (`drop`).
"""
from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import json
import math
import random
import re
import secrets
import time
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .world import CHANNELS, World

PREFIX = "/ga4"
API = PREFIX + "/v1beta"
TOKEN_PATH = PREFIX + "/token"
SCOPES_OK = ("https://www.googleapis.com/auth/analytics.readonly", "https://www.googleapis.com/auth/analytics")
OAUTH_CLIENT_ID = "1093-tributary-sandbox.apps.googleusercontent.com"
OAUTH_CLIENT_SECRET = "GOCSPX-tributary-sandbox-secret"
OAUTH_REFRESH_TOKEN = "1//tributary-sandbox-ga4-refresh-token"
SERVICE_ACCOUNT_EMAIL = "tap-ga4@tributary-sandbox.iam.gserviceaccount.com"
PROJECT_ID = "tributary-sandbox"
TOKEN_TTL = 3600
TIME_ZONE = "America/Los_Angeles"
MAX_DIMENSIONS, MAX_METRICS = 9, 10
DEFAULT_LIMIT, MAX_LIMIT = 10_000, 250_000
OTHER_ROW_LIMIT = 250
THRESHOLD_USERS = 3
ANSWER_CACHE_BYTES = 256 * 1024 * 1024
QUOTA_LIMITS = {"tokensPerDay": 200_000, "tokensPerHour": 40_000, "tokensPerProjectPerHour": 14_000,
                "concurrentRequests": 10, "serverErrorsPerProjectPerHour": 10,
                "potentiallyThresholdedRequestsPerHour": 120}
QUOTA_MESSAGES = {
    "tokensPerDay": "Exhausted property tokens per day. These quota tokens will return tomorrow "
                    "(midnight Pacific time).",
    "tokensPerHour": "Exhausted property tokens per hour. These quota tokens will return in under an hour.",
    "tokensPerProjectPerHour": "Exhausted property tokens for a project per hour. These quota tokens will "
                               "return in under an hour.",
    "concurrentRequests": "Exhausted concurrent requests quota.",
    "potentiallyThresholdedRequestsPerHour": "Exhausted potentially thresholded requests per hour. These "
                                             "quota tokens will return in under an hour.",
}
PROPERTIES = {
    "412345678": {"name": "Tributary Shop (web)", "factor": 1.0, "shop": True},
    "412345679": {"name": "Tributary Blog", "factor": 0.5, "shop": False},
}

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
KEY_EVENTS = ("purchase", "generate_lead")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _weighted(items) -> tuple[list, list]:
    return [i[:-1] if len(i) > 2 else i[0] for i in items], [i[-1] for i in items]


# Session tuple layout (a tuple, not an object: hundreds of thousands are aggregated per report).
(S_USER, S_CHANNEL, S_SOURCE, S_MEDIUM, S_CAMPAIGN, S_LP, S_LPQ, S_DEVICE, S_COUNTRY, S_CITY, S_NEW,
 S_ENGAGED, S_VIEWS, S_DURATION, S_EVENTS, S_ORDER, S_RANK, S_GROUP, S_CTYPE, S_BROWSER, S_KEY, S_COUPON,
 S_DATE) = range(23)


# ---- errors -------------------------------------------------------------------------------------
class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message

    def response(self) -> web.Response:
        return google_error(self.code, self.status, self.message)


def google_error(code: int, status: str, message: str) -> web.Response:
    return web.Response(status=code, content_type="application/json",
                        text=json.dumps({"error": {"code": code, "message": message, "status": status}}))


def bad(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


# ---- the dimension and metric catalogue ----------------------------------------------------------
def _city(s, x):
    return s[S_CITY]


DIMENSIONS: dict[str, tuple] = {
    # name: (scope, getter(session, sub-fact), uiName, category)
    "date": ("session", lambda s, x: s[S_DATE], "Date", "Time"),
    "dayOfWeekName": ("session", lambda s, x: _DOW[s[S_DATE]], "Day of week name", "Time"),
    "sessionSource": ("session", lambda s, x: s[S_SOURCE], "Session source", "Traffic source"),
    "sessionMedium": ("session", lambda s, x: s[S_MEDIUM], "Session medium", "Traffic source"),
    "sessionSourceMedium": ("session", lambda s, x: f"{s[S_SOURCE]} / {s[S_MEDIUM]}", "Session source / medium",
                            "Traffic source"),
    "sessionCampaignName": ("session", lambda s, x: s[S_CAMPAIGN], "Session campaign", "Traffic source"),
    "sessionDefaultChannelGroup": ("session", lambda s, x: s[S_CHANNEL], "Session default channel group",
                                   "Traffic source"),
    "firstUserDefaultChannelGroup": ("session", lambda s, x: s[S_CHANNEL], "First user default channel group",
                                     "Traffic source"),
    "landingPage": ("session", lambda s, x: s[S_LP], "Landing page", "Page / screen"),
    "landingPagePlusQueryString": ("session", lambda s, x: s[S_LPQ], "Landing page + query string",
                                   "Page / screen"),
    "contentGroup": ("session", lambda s, x: s[S_GROUP], "Content group", "Page / screen"),
    "deviceCategory": ("session", lambda s, x: s[S_DEVICE], "Device category", "Platform / device"),
    "browser": ("session", lambda s, x: s[S_BROWSER], "Browser", "Platform / device"),
    "country": ("session", lambda s, x: s[S_COUNTRY], "Country", "Geography"),
    "city": ("session", _city, "City", "Geography"),
    "newVsReturning": ("session", lambda s, x: "new" if s[S_NEW] else "returning", "New / returning", "User"),
    "customUser:customer_type": ("session", lambda s, x: s[S_CTYPE], "Customer type", "Custom"),
    "customEvent:content_group": ("session", lambda s, x: s[S_GROUP], "Content group (custom)", "Custom"),
    "eventName": ("event", lambda s, x: x[0], "Event name", "Event"),
    "isKeyEvent": ("event", lambda s, x: "true" if x[0] in KEY_EVENTS else "false", "Is key event", "Event"),
    "itemName": ("item", lambda s, x: x[0], "Item name", "Ecommerce"),
    "itemId": ("item", lambda s, x: x[1], "Item ID", "Ecommerce"),
    "itemCategory": ("item", lambda s, x: x[2], "Item category", "Ecommerce"),
    "transactionId": ("purchase", lambda s, x: str(1001 + s[S_ORDER].idx) if s[S_ORDER] else "(not set)",
                      "Transaction ID", "Ecommerce"),
}
_DOW: dict = {}   # YYYYMMDD -> weekday name, filled as days are built
CUSTOM = {"customUser:customer_type", "customEvent:content_group", "customEvent:coupon_value"}
THRESHOLD_DIMENSIONS = {"country", "city", "customUser:customer_type"}
USER_METRICS = {"totalUsers", "activeUsers", "newUsers", "sessionsPerUser", "eventCountPerUser"}


def _order_total(s, x):
    return s[S_ORDER].total / 100 if s[S_ORDER] else 0


def _has_order(s, x):
    return 1 if s[S_ORDER] else 0


# metric: {table: spec}; spec = ("sum", getter) | ("users", predicate|None) | ("ratio", num, den, transform)
METRICS: dict[str, tuple[str, str, dict]] = {
    # name: (type, uiName, {table: spec})
    "sessions": ("TYPE_INTEGER", "Sessions", {"session": ("sum", lambda s, x: 1)}),
    "engagedSessions": ("TYPE_INTEGER", "Engaged sessions", {"session": ("sum", lambda s, x: s[S_ENGAGED])}),
    "screenPageViews": ("TYPE_INTEGER", "Views", {"session": ("sum", lambda s, x: s[S_VIEWS])}),
    "userEngagementDuration": ("TYPE_SECONDS", "User engagement", {"session": ("sum", lambda s, x: s[S_DURATION])}),
    "newUsers": ("TYPE_INTEGER", "New users", {"session": ("sum", lambda s, x: s[S_NEW])}),
    "totalUsers": ("TYPE_INTEGER", "Total users", {"session": ("users", None), "event": ("users", None),
                                                   "item": ("users", None)}),
    "activeUsers": ("TYPE_INTEGER", "Active users", {"session": ("users", lambda s, x: s[S_ENGAGED]),
                                                     "event": ("users", lambda s, x: s[S_ENGAGED])}),
    "keyEvents": ("TYPE_FLOAT", "Key events", {"session": ("sum", lambda s, x: s[S_KEY]),
                                               "event": ("sum", lambda s, x: x[1] if x[0] in KEY_EVENTS else 0)}),
    "conversions": ("TYPE_FLOAT", "Conversions (deprecated: use keyEvents)",
                    {"session": ("sum", lambda s, x: s[S_KEY]),
                     "event": ("sum", lambda s, x: x[1] if x[0] in KEY_EVENTS else 0)}),
    "eventCount": ("TYPE_INTEGER", "Event count", {"session": ("sum", lambda s, x: sum(c for _, c in s[S_EVENTS])),
                                                   "event": ("sum", lambda s, x: x[1])}),
    "ecommercePurchases": ("TYPE_INTEGER", "Ecommerce purchases", {"session": ("sum", _has_order)}),
    "transactions": ("TYPE_INTEGER", "Transactions", {"session": ("sum", _has_order)}),
    "totalRevenue": ("TYPE_CURRENCY", "Total revenue", {"session": ("sum", _order_total)}),
    "purchaseRevenue": ("TYPE_CURRENCY", "Purchase revenue", {"session": ("sum", _order_total)}),
    "itemsPurchased": ("TYPE_INTEGER", "Items purchased", {"item": ("sum", lambda s, x: x[3])}),
    "itemRevenue": ("TYPE_CURRENCY", "Item revenue", {"item": ("sum", lambda s, x: x[3] * x[4] / 100)}),
    "engagementRate": ("TYPE_FLOAT", "Engagement rate",
                       {"session": ("ratio", "engagedSessions", "sessions", lambda v: v)}),
    "bounceRate": ("TYPE_FLOAT", "Bounce rate", {"session": ("ratio", "engagedSessions", "sessions", lambda v: 1 - v)}),
    "averageSessionDuration": ("TYPE_SECONDS", "Average session duration",
                               {"session": ("ratio", "userEngagementDuration", "sessions", lambda v: v)}),
    "screenPageViewsPerSession": ("TYPE_FLOAT", "Views per session",
                                  {"session": ("ratio", "screenPageViews", "sessions", lambda v: v)}),
    "sessionsPerUser": ("TYPE_FLOAT", "Sessions per user", {"session": ("ratio", "sessions", "totalUsers", lambda v: v)}),
    "eventCountPerUser": ("TYPE_FLOAT", "Event count per user",
                          {"event": ("ratio", "eventCount", "totalUsers", lambda v: v),
                           "session": ("ratio", "eventCount", "totalUsers", lambda v: v)}),
    "customEvent:coupon_value": ("TYPE_CURRENCY", "Coupon value (custom)",
                                 {"session": ("sum", lambda s, x: s[S_COUPON] / 100)}),
}


def metadata_json(property_id: str, metric_types: dict[str, str] | None = None,
                  dimensions: dict[str, tuple] | None = None) -> dict:
    """The property's metadata; `metric_types` overrides custom metrics' types (units changed),
    `dimensions` is the property's dimensions when custom ones were registered."""
    metric_types = metric_types or {}
    dims, mets = [], []
    for name, (_scope, _g, ui, cat) in (dimensions or DIMENSIONS).items():
        d = {"apiName": name, "uiName": ui, "description": f"{ui}.", "category": cat}
        if name in CUSTOM or cat == "Custom":
            d["customDefinition"] = True
        dims.append(d)
    for name, (type_, ui, _tables) in METRICS.items():
        m = {"apiName": name, "uiName": ui, "description": f"{ui}.", "type": metric_types.get(name, type_),
             "category": "Custom" if name in CUSTOM else "General"}
        if name in CUSTOM:
            m["customDefinition"] = True
        if name == "conversions":
            m["deprecatedApiNames"] = []
        mets.append(m)
    if property_id == "0":   # universal metadata: no custom definitions
        dims = [d for d in dims if not d.get("customDefinition")]
        mets = [m for m in mets if not m.get("customDefinition")]
    return {"name": f"properties/{property_id}/metadata", "dimensions": dims, "metrics": mets}


# ---- request parsing (proto-JSON as Google's client libraries send it) ---------------------------
REQUEST_FIELDS = {"property", "dimensions", "metrics", "dateRanges", "dimensionFilter", "metricFilter", "offset",
                  "limit", "metricAggregations", "orderBys", "currencyCode", "cohortSpec", "keepEmptyRows",
                  "returnPropertyQuota", "comparisons"}
COMPATIBILITIES = {0: "COMPATIBILITY_UNSPECIFIED", 1: "COMPATIBLE", 2: "INCOMPATIBLE"}
MATCH_TYPES = {1: "EXACT", 2: "BEGINS_WITH", 3: "ENDS_WITH", 4: "CONTAINS", 5: "FULL_REGEXP", 6: "PARTIAL_REGEXP"}
NUMERIC_OPS = {1: "EQUAL", 2: "LESS_THAN", 3: "LESS_THAN_OR_EQUAL", 4: "GREATER_THAN", 5: "GREATER_THAN_OR_EQUAL"}
ORDER_TYPES = {1: "ALPHANUMERIC", 2: "CASE_INSENSITIVE_ALPHANUMERIC", 3: "NUMERIC"}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _norm(obj: Any) -> Any:
    """snake_case proto names -> lowerCamel (proto-JSON accepts both)."""
    if isinstance(obj, dict):
        return {_camel(k): _norm(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_norm(v) for v in obj]
    return obj


def _int64(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and value != int(value):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise bad(f'Invalid value at \'{field}\' (TYPE_INT64), "{value}"') from None


def _enum(value: Any, names: dict, field: str, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        if value in names:
            return names[value]
    elif isinstance(value, str) and value in names.values():
        return value
    raise bad(f'Invalid value at \'{field}\', "{value}"')


def parse_date(text: Any, today: dt.date) -> dt.date | None:
    """YYYY-MM-DD, NdaysAgo, yesterday or today (relative to the property's today); None if neither."""
    if not isinstance(text, str):
        return None
    if text == "today":
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    m = re.fullmatch(r"(\d+)daysAgo", text)
    if m:
        return today - dt.timedelta(days=int(m.group(1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _date(text: Any, today: dt.date, field: str) -> dt.date:
    d = parse_date(text, today)
    if d is None:
        raise bad(f"Invalid {field}: {text!r}. Dates must be YYYY-MM-DD, NdaysAgo, yesterday, or today.")
    return d


# ---- the sandbox -------------------------------------------------------------------------------
class GA4Sandbox:
    """State of the simulated GA4 properties: data, tokens, quota, faults, counters."""

    def __init__(self, world: World, clock: Any = None, key_path: str | Path | None = None) -> None:
        self.clock = clock
        self._signing_key = None
        self.key_path = Path(key_path) if key_path else None
        self.load(world)

    # -- lifecycle --------------------------------------------------------------------------------
    def load(self, world: World) -> None:
        self.world = world
        self.today = world.today
        self.revision = 0
        self.other_row_limit = OTHER_ROW_LIMIT
        self.thresholding = True
        self.sampling_above_days: int | None = None
        self.tokens: dict[str, dict] = {}
        self.quota: dict[str, dict] = {}
        self.faults = {"server_error": 0, "unavailable": 0, "concurrent": 0, "drop": 0}
        self.fault_target = "any"   # "any" | "runReport" | "metadata": which calls the armed faults hit
        self.custom_metric_types: dict[str, str] = {}   # set_metric_type: custom metrics whose unit changed
        self.dimensions: dict[str, tuple] = dict(DIMENSIONS)   # add_custom_dimension registers more
        self.requests: collections.Counter = collections.Counter()
        self.tokens_charged: collections.Counter = collections.Counter()
        self.in_flight: collections.Counter = collections.Counter()
        self._days: dict[tuple, list] = {}
        # Encoded answers (without propertyQuota) by request: a benchmark re-reading the same pages
        # measures the client, not this server's aggregation. Bounded by bytes.
        self._answers: collections.OrderedDict = collections.OrderedDict()
        self._answer_bytes = 0
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

    def now(self) -> dt.datetime:
        return self.clock.now() if self.clock is not None else dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    # -- service account ----------------------------------------------------------------------------
    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        if self._signing_key is None:
            if self.key_path and self.key_path.exists():   # keep the key across restarts
                try:
                    pem = json.loads(self.key_path.read_text())["private_key"].encode()
                    self._signing_key = serialization.load_pem_private_key(pem, password=None)
                except (ValueError, KeyError, OSError):
                    self._signing_key = None
            if self._signing_key is None:
                self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._signing_key

    @property
    def private_key_id(self) -> str:
        der = self.signing_key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        import hashlib
        return hashlib.sha1(der).hexdigest()

    def service_account_key(self, base_url: str) -> dict:
        """The key file a GCP console would download, its token_uri pointing at this sandbox."""
        pem = self.signing_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        base = base_url.rstrip("/")
        return {"type": "service_account", "project_id": PROJECT_ID, "private_key_id": self.private_key_id,
                "private_key": pem, "client_email": SERVICE_ACCOUNT_EMAIL, "client_id": "109876543210987654321",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": base + TOKEN_PATH,
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "universe_domain": "googleapis.com"}

    def write_service_account_key(self, path: str | Path, base_url: str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.service_account_key(base_url), indent=2))
        path.chmod(0o600)
        return path

    # -- tokens ---------------------------------------------------------------------------------------
    def issue_token(self, scope: str, via: str) -> dict:
        token = "ya29.sandbox-" + secrets.token_urlsafe(32)
        self.tokens[token] = {"expires": self.now() + dt.timedelta(seconds=TOKEN_TTL), "scope": scope, "via": via}
        return {"access_token": token, "expires_in": TOKEN_TTL - 1, "token_type": "Bearer", "scope": scope}

    def exchange(self, form: dict) -> tuple[int, dict]:
        grant = form.get("grant_type")
        self.requests["token"] += 1
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            if form.get("client_id") != OAUTH_CLIENT_ID or form.get("client_secret") != OAUTH_CLIENT_SECRET:
                return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
            if form.get("refresh_token") != OAUTH_REFRESH_TOKEN:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 200, self.issue_token(SCOPES_OK[0], "refresh_token")
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}

    def _jwt_grant(self, assertion: str) -> tuple[int, dict]:
        claims, refusal = self._verified_jwt(assertion)
        if refusal:
            return 400, {"error": "invalid_grant", "error_description": refusal}
        aud = str(claims.get("aud", ""))
        if not (aud.endswith(TOKEN_PATH) or aud == "https://oauth2.googleapis.com/token"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: audience must be the token_uri."}
        scope = str(claims.get("scope", ""))
        if not scope:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: no scope."}   # Google: invalid_scope
        return 200, self.issue_token(scope, "service_account")

    def _verified_jwt(self, assertion: str) -> tuple[dict, str]:
        """A JWT signed with the service account's key: its claims, or why it is refused."""
        parts = assertion.split(".")
        if len(parts) != 3:
            return {}, "Invalid JWT: not a JWS compact serialisation."
        try:
            header, claims = (json.loads(_b64d(p)) for p in parts[:2])
            signature = _b64d(parts[2])
        except (ValueError, TypeError):
            return {}, "Invalid JWT: undecodable header or claims."
        if header.get("alg") != "RS256":
            return {}, "Invalid JWT: algorithm must be RS256."
        if header.get("kid") not in (None, self.private_key_id):
            return {}, "Invalid JWT Signature."
        try:
            self.signing_key.public_key().verify(signature, f"{parts[0]}.{parts[1]}".encode(),
                                                 padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return {}, "Invalid JWT Signature."
        if claims.get("iss") != SERVICE_ACCOUNT_EMAIL:
            return {}, "Invalid email or User ID"
        now = time.time()   # the JWT is signed with the client's wall clock, not the sandbox clock
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            return {}, "Invalid JWT: iat and exp are required."
        if exp - iat > 3600 or exp < now - 60 or iat > now + 300:
            return {}, ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                        "timeframe. Check your iat and exp values in the JWT claim.")
        return claims, ""

    def _self_signed_scope(self, token: str) -> str | None:
        """Google's "service account authorization without OAuth": a JWT the client signed itself,
        sent as the bearer token, naming the API (`aud` https://analyticsdata.googleapis.com/) or
        the scopes (`scope`). What Google's own client libraries send by default. Its scope, or None."""
        if token.count(".") != 2:
            return None
        claims, refusal = self._verified_jwt(token)
        if refusal or claims.get("sub", claims.get("iss")) != SERVICE_ACCOUNT_EMAIL:
            return None
        aud = claims.get("aud")
        if aud is None:   # scopes named instead of the API
            return str(claims.get("scope", "")) or None
        return SCOPES_OK[0] if str(aud).rstrip("/") == "https://analyticsdata.googleapis.com" else None

    def expire_tokens(self) -> int:
        """Every issued access token expires now (clients must fetch a new one)."""
        for info in self.tokens.values():
            info["expires"] = self.now()
        return len(self.tokens)

    def check_token(self, header: str) -> ApiError | None:
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        info = self.tokens.get(token) if token else None
        if info is None and token and (scope := self._self_signed_scope(token)) is not None:
            self.requests["self_signed_jwt"] += 1
            info = {"expires": self.now() + dt.timedelta(seconds=1), "scope": scope, "via": "self_signed_jwt"}
        if info is None or info["expires"] <= self.now():
            return ApiError(401, "UNAUTHENTICATED",
                            "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                            "cookie or other valid authentication credential. See "
                            "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        if not any(s in info["scope"].split() for s in SCOPES_OK):
            return ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        return None

    # -- quota ----------------------------------------------------------------------------------------
    def _windows(self) -> dict:
        now = self.now()
        hour = now.replace(minute=0, second=0)
        day = now.astimezone(ZoneInfo(TIME_ZONE)).date().isoformat()
        return {"tokensPerDay": day, "tokensPerHour": hour, "tokensPerProjectPerHour": hour,
                "potentiallyThresholdedRequestsPerHour": hour, "serverErrorsPerProjectPerHour": hour}

    def _quota(self, pid: str) -> dict:
        q = self.quota.setdefault(pid, {})
        for name, window in self._windows().items():
            if name not in q or q[name]["window"] != window:
                q[name] = {"window": window, "consumed": 0}
        return q

    def remaining(self, pid: str, name: str) -> int:
        if name == "concurrentRequests":
            return QUOTA_LIMITS[name] - self.in_flight[pid]
        return QUOTA_LIMITS[name] - self._quota(pid)[name]["consumed"]

    def set_quota(self, property_id: str | None = None, **remaining: int) -> dict:
        """Set what remains of each named budget (e.g. tokensPerProjectPerHour=20) in the current window."""
        for pid in ([property_id] if property_id else list(PROPERTIES)):
            q = self._quota(str(pid))
            for name, left in remaining.items():
                if name not in q:
                    raise ValueError(f"unknown quota {name!r}; one of {sorted(q)}")
                q[name]["consumed"] = QUOTA_LIMITS[name] - int(left)
        return self.quota_json(property_id or next(iter(PROPERTIES)))

    def quota_json(self, pid: str) -> dict:
        out = {}
        for name in ("tokensPerDay", "tokensPerHour", "concurrentRequests", "serverErrorsPerProjectPerHour",
                     "potentiallyThresholdedRequestsPerHour", "tokensPerProjectPerHour"):
            left = self.remaining(pid, name)
            out[name] = {"consumed": QUOTA_LIMITS[name] - left if name != "concurrentRequests" else 0,
                         "remaining": max(0, left)}
        return out

    def refuse_for_quota(self, pid: str, thresholded: bool) -> ApiError | None:
        for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
            if self.remaining(pid, name) <= 0:
                return ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES[name])
        if thresholded and self.remaining(pid, "potentiallyThresholdedRequestsPerHour") <= 0:
            return ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES["potentiallyThresholdedRequestsPerHour"])
        return None

    def charge(self, pid: str, tokens: int, thresholded: bool) -> None:
        q = self._quota(pid)
        for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
            q[name]["consumed"] += tokens
        if thresholded:
            q["potentiallyThresholdedRequestsPerHour"]["consumed"] += 1
        self.tokens_charged[pid] += tokens

    # -- knobs ------------------------------------------------------------------------------------------
    def set_faults(self, on: str | None = None, **knobs: int) -> dict:
        if on is not None:
            if on not in ("any", "runReport", "metadata"):
                raise ValueError("on must be any, runReport or metadata")
            self.fault_target = on
        for k, v in knobs.items():
            if k not in self.faults:
                raise ValueError(f"unknown fault {k!r}; one of {sorted(self.faults)}")
            self.faults[k] = int(v)
        return {**self.faults, "on": self.fault_target}

    def configure(self, *, other_row_limit: int | None = None, thresholding: bool | None = None,
                  sampling_above_days: int | None = None) -> dict:
        if other_row_limit is not None:
            self.other_row_limit = int(other_row_limit)
        if thresholding is not None:
            self.thresholding = bool(thresholding)
        if sampling_above_days is not None:
            self.sampling_above_days = int(sampling_above_days) or None
        return {"other_row_limit": self.other_row_limit, "thresholding": self.thresholding,
                "sampling_above_days": self.sampling_above_days, "revision": self.revision}

    # A custom metric's measurement unit (Admin API: STANDARD, CURRENCY, distances, durations) can
    # be changed by the property's owner; the Data API then reports it with the matching type,
    # always a floating-point one. Built-in metrics' types never change.
    CUSTOM_METRIC_TYPES = {"TYPE_STANDARD", "TYPE_CURRENCY", "TYPE_FEET", "TYPE_METERS", "TYPE_KILOMETERS",
                           "TYPE_MILES", "TYPE_MILLISECONDS", "TYPE_SECONDS", "TYPE_MINUTES", "TYPE_HOURS"}

    def set_metric_type(self, metric: str, type_: str) -> dict:
        """A custom metric's unit changed: metadata and reports give it `type_` from now on."""
        if metric not in METRICS or metric not in CUSTOM:
            raise ValueError(f"{metric!r} is not a custom metric; one of "
                             f"{sorted(m for m in METRICS if m in CUSTOM)}")
        if type_ not in self.CUSTOM_METRIC_TYPES:
            raise ValueError(f"a custom metric's type is one of {sorted(self.CUSTOM_METRIC_TYPES)}, not {type_!r}")
        self.custom_metric_types[metric] = type_
        self._answers.clear()             # answers memoised before carry the old type
        self._answer_bytes = 0
        return {"metric": metric, "type": type_}

    # GA4's rule for event and user parameter names (what a custom dimension's API name ends with):
    # a letter, then letters, digits and underscores, at most 40 characters.
    PARAMETER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")

    def add_custom_dimension(self, parameter: str, scope: str = "event", like: str = "contentGroup") -> dict:
        """The property's owner registers a custom dimension on a parameter the site sends: reports
        may ask for `customEvent:<parameter>` (or `customUser:`) from now on; its values are those
        of the built-in session dimension `like`."""
        if scope not in ("event", "user"):
            raise ValueError(f"scope is 'event' or 'user', not {scope!r}")
        if not self.PARAMETER_NAME.fullmatch(parameter):
            raise ValueError(f"{parameter!r} is not a GA4 parameter name (a letter, then letters, digits and "
                             "underscores, at most 40 characters)")
        if like not in DIMENSIONS or DIMENSIONS[like][0] != "session":
            raise ValueError(f"{like!r} is not a session dimension")
        api_name = f"custom{scope.capitalize()}:{parameter}"
        if api_name in self.dimensions:
            raise ValueError(f"{api_name} already exists")
        self.dimensions[api_name] = ("session", DIMENSIONS[like][1], f"{parameter} (custom)", "Custom")
        self._answers.clear()
        self._answer_bytes = 0
        return {"apiName": api_name}

    def serving_tables(self, dims: list[str], mets: list[str]) -> set[str]:
        """The fact tables (session, event, item) that hold every one of these fields: none means
        GA4 would call the request incompatible."""
        scopes = {self.dimensions[d][0] for d in dims} - {"session"}
        tables = {"session", "event", "item"}
        for m in mets:
            tables &= set(METRICS[m][2])
        if "purchase" in scopes:   # transactionId: sessions with an order, or their items
            scopes.discard("purchase")
            tables &= {"session", "item"}
        for scope in scopes:
            tables &= {scope}
        return tables

    def check_compatibility(self, pid: str, body: dict) -> dict:
        """checkCompatibility: every dimension and metric of the property, COMPATIBLE when it could
        be added to the request's fields (and filter fields), else INCOMPATIBLE."""
        body = _norm(body)
        fields: set = set()
        _compile_filter(body.get("dimensionFilter"), "dimension", fields, self.dimensions)
        _compile_filter(body.get("metricFilter"), "metric", fields, self.dimensions)
        dims = [d.get("name") for d in body.get("dimensions") or [] if isinstance(d, dict)]
        mets = [m.get("name") for m in body.get("metrics") or [] if isinstance(m, dict)]
        for name in dims + [f for f in fields if f in self.dimensions]:
            if name not in self.dimensions:
                raise bad(f"Field {name} is not a valid dimension.")
        for name in mets + [f for f in fields if f not in self.dimensions]:
            if name not in METRICS:
                raise bad(f"Field {name} is not a valid metric.")
        dims += [f for f in fields if f in self.dimensions]
        mets += [f for f in fields if f in METRICS]
        wanted = _enum(body.get("compatibilityFilter"), COMPATIBILITIES, "compatibility_filter")
        if wanted == "COMPATIBILITY_UNSPECIFIED":
            wanted = None
        metadata = metadata_json(pid, self.custom_metric_types, self.dimensions)

        def verdict(ok: bool) -> str:
            return "COMPATIBLE" if ok else "INCOMPATIBLE"
        out_dims = [{"dimensionMetadata": d, "compatibility": verdict(bool(self.serving_tables(dims + [d["apiName"]], mets)))}
                    for d in metadata["dimensions"]]
        out_mets = [{"metricMetadata": m, "compatibility": verdict(bool(self.serving_tables(dims, mets + [m["apiName"]])))}
                    for m in metadata["metrics"]]
        if wanted:
            out_dims = [d for d in out_dims if d["compatibility"] == wanted]
            out_mets = [m for m in out_mets if m["compatibility"] == wanted]
        return {"dimensionCompatibilities": out_dims, "metricCompatibilities": out_mets}

    def metric_type(self, metric: str) -> str:
        return self.custom_metric_types.get(metric, METRICS[metric][0])

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

    def add_sessions(self, sessions: list, property_id: str = "412345678", days_ago: int = 1) -> dict:
        """Late-processed sessions of a recent day (`days_ago`, inside the taps' restatement window),
        each a copy of one of that day's sessions without a purchase (same user, so user counts hold)
        with the given dimension values: what GA4 reports for real pages and campaigns whose names
        are in any script, as long as GA4 collects them (values beyond its collection limits
        are refused here), or "(not set)". New rows appear in the reports that group by those
        dimensions; the day's totals grow as in a restatement."""
        if property_id not in PROPERTIES:
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
        self._answers.clear()             # answers memoised before are stale now
        self._answer_bytes = 0
        return {"date": day.isoformat(), "property_id": property_id, "sessions": len(day_sessions)}

    def completeness(self, age: int) -> float:
        if age <= 0:
            return 0.0
        return round(min(1.0, 0.55 + 0.15 * age + 0.2 * self.revision), 4)

    # -- data -----------------------------------------------------------------------------------------
    def sessions(self, pid: str, day: dt.date) -> list:
        """The complete session list of a property-day (cached), before restatement cuts."""
        key = (pid, day)
        got = self._days.get(key)
        if got is None:
            got = self._days[key] = self._build_day(pid, day)
        return got

    def _build_day(self, pid: str, day: dt.date) -> list:
        prop = PROPERTIES[pid]
        rows = self._web.get(day)
        if not rows:
            return []
        r = random.Random(f"{self.world.seed}:ga4:{pid}:{day.isoformat()}")
        ymd = day.strftime("%Y%m%d")
        _DOW[ymd] = day.strftime("%A")
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

    def visible_sessions(self, pid: str, day: dt.date) -> list:
        frac = self.completeness((self.today - day).days)
        if frac <= 0:
            return []
        got = self.sessions(pid, day)
        return got if frac >= 1 else [s for s in got if s[S_RANK] < frac]

    # -- runReport -------------------------------------------------------------------------------------
    def run_report(self, pid: str, body: dict) -> tuple[dict, int, bool]:
        """(answer without propertyQuota, tokens to charge, potentially thresholded)."""
        if not isinstance(body, dict):
            raise bad("Invalid JSON payload received. Expected an object.")
        body = _norm(body)
        for k in body:
            if k not in REQUEST_FIELDS:
                raise bad(f'Invalid JSON payload received. Unknown name "{k}": Cannot find field.')
        if body.get("property") not in (None, "", f"properties/{pid}"):
            raise bad("Property in the request body and in the URL differ.")
        for f in ("cohortSpec", "comparisons"):
            if body.get(f):
                raise bad(f"{f} is not supported by this sandbox.")
        dims = [d.get("name") if isinstance(d, dict) else None for d in body.get("dimensions") or []]
        mets = [m.get("name") if isinstance(m, dict) else None for m in body.get("metrics") or []]
        if len(dims) > MAX_DIMENSIONS:
            raise bad(f"Requests are limited to {MAX_DIMENSIONS} dimensions within a request. This request has "
                      f"{len(dims)} dimensions.")
        if len(mets) > MAX_METRICS:
            raise bad(f"Requests are limited to {MAX_METRICS} metrics within a request. This request has "
                      f"{len(mets)} metrics.")
        if not mets and not dims:
            raise bad("At least one dimension or metric is required.")
        for d in dims:
            if d not in self.dimensions:
                raise bad(f"Field {d} is not a valid dimension. For a list of valid dimensions and metrics, see "
                          "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ")
        for m in mets:
            if m not in METRICS:
                raise bad(f"Field {m} is not a valid metric. For a list of valid dimensions and metrics, see "
                          "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema ")
        if len(set(dims)) != len(dims) or len(set(mets)) != len(mets):
            raise bad("Dimensions and metrics must not be repeated in a request.")
        limit = _int64(body.get("limit"), "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
        offset = _int64(body.get("offset"), "offset", 0)
        if limit < 0 or offset < 0:
            raise bad("limit and offset must be non-negative.")
        if limit > MAX_LIMIT:
            raise bad(f"limit must be at most {MAX_LIMIT}; found {limit}.")
        ranges = body.get("dateRanges") or []
        if not ranges:
            raise bad("dateRanges must be set.")
        spans = []
        for i, rg in enumerate(ranges):
            start = _date(rg.get("startDate"), self.today, f"date_ranges[{i}].start_date")
            end = _date(rg.get("endDate"), self.today, f"date_ranges[{i}].end_date")
            if start > end:
                raise bad(f"date_ranges[{i}]: startDate must not be after endDate.")
            spans.append((start, end, rg.get("name") or f"date_range_{i}"))
        filter_fields: set = set()
        dim_filter = _compile_filter(body.get("dimensionFilter"), "dimension", filter_fields, self.dimensions)
        met_filter = _compile_filter(body.get("metricFilter"), "metric", filter_fields, self.dimensions)

        # which fact table can serve every field?
        tables = self.serving_tables(dims + [f for f in filter_fields if f in self.dimensions], mets)
        if not tables:
            culprit = next((d for d in dims if self.dimensions[d][0] not in ("session",)), None) or mets[-1]
            raise bad(f"Please remove {culprit} to make the request compatible. The request's dimensions & "
                      "metrics are incompatible. To learn more, see https://ga-dev-tools.google/ga4/"
                      "dimensions-metrics-explorer/")
        table = "session" if "session" in tables else sorted(tables)[0]

        # aggregation
        plan = _MetricPlan(table, mets, met_filter_fields=[f for f in filter_fields if f in METRICS])
        thresholded = (self.thresholding and bool(set(dims) & THRESHOLD_DIMENSIONS)
                       and bool(set(mets) & USER_METRICS))
        if thresholded:
            plan.ensure("totalUsers")
        getters = [self.dimensions[d][1] for d in dims]
        range_dim = len(spans) > 1
        groups: dict[tuple, list] = {}
        days = 0
        for start, end, rname in spans:
            n = (end - start).days + 1
            days += n
            for k in range(n):
                day = start + dt.timedelta(days=k)
                for s in self.visible_sessions(pid, day):
                    for x in _subfacts(table, s, self.world):
                        if dim_filter is not None and not dim_filter(s, x):
                            continue
                        key = tuple(g(s, x) for g in getters)
                        if range_dim:
                            key += (rname,)
                        acc = groups.get(key)
                        if acc is None:
                            acc = groups[key] = plan.new()
                        plan.add(acc, s, x)
        out_dims = dims + (["dateRange"] if range_dim else [])
        metadata: dict[str, Any] = {"currencyCode": "USD", "timeZone": TIME_ZONE}
        if len(groups) > 0 and self.other_row_limit:
            groups, folded = self._fold_other(groups, out_dims, plan)
            if folded:
                metadata["dataLossFromOtherRow"] = True
        rows = []
        for key, acc in groups.items():
            values = plan.finish(acc)
            if thresholded and key and "(other)" not in key and plan.users_of(acc) < THRESHOLD_USERS:
                continue
            if met_filter is not None and not met_filter(None, values):
                continue
            if not body.get("keepEmptyRows") and values and all(v == 0 for v in (values[m] for m in mets)):
                continue
            rows.append((key, values))
        rows = _order(rows, body.get("orderBys") or [], out_dims, mets)
        if thresholded:
            metadata["subjectToThresholding"] = True
        if self.sampling_above_days and days > self.sampling_above_days:
            space = sum(len(self.visible_sessions(pid, s + dt.timedelta(days=k)))
                        for s, e, _ in spans for k in range((e - s).days + 1))
            metadata["samplingMetadatas"] = [{"samplesReadCount": str(space // 10), "samplingSpaceSize": str(space)}]
        page = rows[offset:offset + limit]
        answer: dict[str, Any] = {
            "dimensionHeaders": [{"name": d} for d in out_dims],
            "metricHeaders": [{"name": m, "type": self.metric_type(m)} for m in mets],
        }
        if page:
            answer["rows"] = [{"dimensionValues": [{"value": v} for v in key],
                               "metricValues": [{"value": _fmt(values[m], self.metric_type(m))} for m in mets]}
                              for key, values in page]
        if rows:
            answer["rowCount"] = len(rows)
        answer["metadata"] = metadata
        answer["kind"] = "analyticsData#runReport"
        tokens = 5 + 2 * math.ceil(days / 7) + math.ceil(len(page) / 1000) + (2 if filter_fields else 0)
        return answer, tokens, thresholded

    def cached_report(self, pid: str, body: dict) -> tuple[bytes, int, bool]:
        """run_report, encoded, memoised on (property, request, revision, knobs)."""
        key = (pid, json.dumps(body, sort_keys=True), self.revision, self.other_row_limit, self.thresholding,
               self.sampling_above_days)
        hit = self._answers.get(key)
        if hit is not None:
            self._answers.move_to_end(key)
            return hit
        answer, tokens, thresholded = self.run_report(pid, body)
        hit = (json.dumps(answer, separators=(",", ":")).encode(), tokens, thresholded)
        self._answers[key] = hit
        self._answer_bytes += len(hit[0])
        while self._answer_bytes > ANSWER_CACHE_BYTES and len(self._answers) > 1:
            _, old = self._answers.popitem(last=False)
            self._answer_bytes -= len(old[0])
        return hit

    def _fold_other(self, groups: dict, dims: list, plan: "_MetricPlan") -> tuple[dict, bool]:
        limit = self.other_row_limit
        by_date: dict = {}
        di = dims.index("date") if "date" in dims else None
        for key in groups:
            by_date.setdefault(key[di] if di is not None else None, []).append(key)
        if all(len(keys) <= limit for keys in by_date.values()):
            return groups, False
        out: dict = {}
        for date, keys in by_date.items():
            if len(keys) <= limit:
                for k in keys:
                    out[k] = groups[k]
                continue
            keys.sort(key=lambda k: (-plan.weight(groups[k]), k))
            for k in keys[:limit - 1]:
                out[k] = groups[k]
            other = tuple(date if i == di else "(other)" for i in range(len(dims)))
            acc = plan.new()
            for k in keys[limit - 1:]:
                plan.merge(acc, groups[k])
            out[other] = acc
        return out, True


def _subfacts(table: str, s: tuple, world: World):
    if table == "session":
        return (None,)
    if table == "event":
        return s[S_EVENTS]
    order = s[S_ORDER]
    if order is None:
        return ()
    prods = world.products
    return [(prods[p].name, prods[p].sku, prods[p].name.split()[1] if len(prods[p].name.split()) > 1 else "Goods",
             q, price) for p, q, price in order.lines]


class _MetricPlan:
    """Accumulators for one report: plain sums, distinct-user sets, and ratios of the two."""

    def __init__(self, table: str, metrics: list, met_filter_fields: list) -> None:
        self.table = table
        self.metrics = list(metrics)
        self.slots: dict[str, int] = {}
        self.sums: list[tuple[int, Callable]] = []
        self.users: list[tuple[int, Callable | None]] = []
        self.ratios: dict[str, tuple] = {}
        for m in self.metrics + list(met_filter_fields):
            self.ensure(m)

    def ensure(self, m: str) -> None:
        if m in self.slots or m in self.ratios:
            return
        spec = METRICS[m][2].get(self.table)
        if spec is None:
            raise bad(f"Please remove {m} to make the request compatible. The request's dimensions & metrics "
                      "are incompatible.")
        if spec[0] == "ratio":
            self.ensure(spec[1])
            self.ensure(spec[2])
            self.ratios[m] = spec
            return
        slot = len(self.slots)
        self.slots[m] = slot
        (self.sums if spec[0] == "sum" else self.users).append((slot, spec[1]))

    def new(self) -> list:
        acc = [0] * len(self.slots)
        for slot, _ in self.users:
            acc[slot] = set()
        return acc

    def add(self, acc: list, s: tuple, x: Any) -> None:
        for slot, g in self.sums:
            acc[slot] += g(s, x)
        for slot, pred in self.users:
            if pred is None or pred(s, x):
                acc[slot].add(s[S_USER])

    def merge(self, acc: list, other: list) -> None:
        for slot, _ in self.sums:
            acc[slot] += other[slot]
        for slot, _ in self.users:
            acc[slot] |= other[slot]

    def weight(self, acc: list) -> float:
        if not acc:
            return 0
        v = acc[0]
        return len(v) if isinstance(v, set) else v

    def users_of(self, acc: list) -> int:
        return len(acc[self.slots["totalUsers"]]) if "totalUsers" in self.slots else 99

    def finish(self, acc: list) -> dict:
        vals = {m: (len(acc[i]) if isinstance(acc[i], set) else acc[i]) for m, i in self.slots.items()}
        for m, (_, num, den, fn) in self.ratios.items():
            vals[m] = fn(vals[num] / vals[den]) if vals[den] else 0
        return vals


def _fmt(v: float, type_: str) -> str:
    if type_ == "TYPE_INTEGER":
        return str(int(v))
    if type_ == "TYPE_CURRENCY":
        v = round(v, 2)
    if v == int(v):
        return str(int(v))
    return repr(round(v, 10))


def _compile_filter(expr: Any, kind: str, fields: set, dimensions: dict[str, tuple]):
    """FilterExpression -> predicate(session, sub-fact) (dimension) or predicate(None, values) (metric)."""
    if expr is None:
        return None
    if not isinstance(expr, dict) or len(expr) != 1:
        raise bad(f"{kind}Filter: a FilterExpression has exactly one of andGroup, orGroup, notExpression, filter.")
    (op, val), = expr.items()
    if op in ("andGroup", "orGroup"):
        subs = [_compile_filter(e, kind, fields, dimensions) for e in (val or {}).get("expressions") or []]
        if op == "andGroup":
            return lambda s, x: all(f(s, x) for f in subs)
        return lambda s, x: any(f(s, x) for f in subs)
    if op == "notExpression":
        sub = _compile_filter(val, kind, fields, dimensions)
        return lambda s, x: not sub(s, x)
    if op != "filter":
        raise bad(f'Invalid JSON payload received. Unknown name "{op}" at \'{kind}_filter\': Cannot find field.')
    name = val.get("fieldName")
    if kind == "dimension":
        if name not in dimensions:
            raise bad(f"Field {name} is not a valid dimension.")
        getter = dimensions[name][1]
    else:
        if name not in METRICS:
            raise bad(f"Field {name} is not a valid metric.")
        getter = (lambda s, x, n=name: x[n])
    fields.add(name)
    if "stringFilter" in val:
        sf = val["stringFilter"]
        mt = _enum(sf.get("matchType"), MATCH_TYPES, "string_filter.match_type", "EXACT")
        want = str(sf.get("value", ""))
        cs = bool(sf.get("caseSensitive"))
        norm = (lambda v: v) if cs else (lambda v: v.lower())
        w = norm(want)
        rx = re.compile(want, 0 if cs else re.I) if mt in ("FULL_REGEXP", "PARTIAL_REGEXP") else None
        test = {"EXACT": lambda v: norm(v) == w, "BEGINS_WITH": lambda v: norm(v).startswith(w),
                "ENDS_WITH": lambda v: norm(v).endswith(w), "CONTAINS": lambda v: w in norm(v),
                "FULL_REGEXP": lambda v: rx.fullmatch(v) is not None,
                "PARTIAL_REGEXP": lambda v: rx.search(v) is not None}[mt]
        return lambda s, x: test(str(getter(s, x)))
    if "inListFilter" in val:
        lf = val["inListFilter"]
        cs = bool(lf.get("caseSensitive"))
        values = {v if cs else v.lower() for v in lf.get("values") or []}
        return lambda s, x: (str(getter(s, x)) if cs else str(getter(s, x)).lower()) in values
    if "numericFilter" in val:
        nf = val["numericFilter"]
        op_ = _enum(nf.get("operation"), NUMERIC_OPS, "numeric_filter.operation")
        num = _numeric(nf.get("value"))
        cmp = {"EQUAL": lambda a: a == num, "LESS_THAN": lambda a: a < num, "LESS_THAN_OR_EQUAL": lambda a: a <= num,
               "GREATER_THAN": lambda a: a > num, "GREATER_THAN_OR_EQUAL": lambda a: a >= num}[op_]
        return lambda s, x: cmp(float(getter(s, x)))
    if "betweenFilter" in val:
        lo, hi = _numeric(val["betweenFilter"].get("fromValue")), _numeric(val["betweenFilter"].get("toValue"))
        return lambda s, x: lo <= float(getter(s, x)) <= hi
    if "emptyFilter" in val:
        return lambda s, x: getter(s, x) in ("", "(not set)")
    raise bad(f"filter on {name}: one of stringFilter, inListFilter, numericFilter, betweenFilter, emptyFilter.")


def _numeric(v: Any) -> float:
    if not isinstance(v, dict):
        raise bad("NumericValue must be an object with int64Value or doubleValue.")
    if "int64Value" in v:
        return float(_int64(v["int64Value"], "int64_value", 0))
    if "doubleValue" in v:
        return float(v["doubleValue"])
    raise bad("NumericValue must have int64Value or doubleValue.")


def _order(rows: list, order_bys: list, dims: list, mets: list) -> list:
    if not order_bys:
        return sorted(rows, key=lambda r: r[0])
    for ob in reversed(order_bys):
        desc = bool(ob.get("desc"))
        if "dimension" in ob:
            name = ob["dimension"].get("dimensionName")
            if name not in dims:
                raise bad(f"orderBys: dimension {name} is not in the request.")
            i = dims.index(name)
            ot = _enum(ob["dimension"].get("orderType"), ORDER_TYPES, "order_type", "ALPHANUMERIC")
            if ot == "NUMERIC":
                def k(r, i=i):
                    try:
                        return (0, float(r[0][i]), "")
                    except ValueError:
                        return (1, 0.0, r[0][i])
            elif ot == "CASE_INSENSITIVE_ALPHANUMERIC":
                def k(r, i=i):
                    return r[0][i].lower()
            else:
                def k(r, i=i):
                    return r[0][i]
            rows.sort(key=k, reverse=desc)
        elif "metric" in ob:
            name = ob["metric"].get("metricName")
            if name not in mets:
                raise bad(f"orderBys: metric {name} is not in the request.")
            rows.sort(key=lambda r, n=name: r[1][n], reverse=desc)
        else:
            raise bad("orderBys: each OrderBy needs dimension or metric.")
    return rows


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# ---- HTTP layer ------------------------------------------------------------------------------------
APP_KEY: web.AppKey[GA4Sandbox] = web.AppKey("ga4_sandbox", GA4Sandbox)


def _property(pid: str) -> str:
    if not pid.isdigit():
        raise bad(f"Invalid property: properties/{pid}. A property must be 'properties/' followed by a "
                  "numeric property id.")
    if pid not in PROPERTIES and pid != "0":
        raise ApiError(403, "PERMISSION_DENIED",
                       "User does not have sufficient permissions for this property. To learn more about Property "
                       "ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.")
    return pid


async def _faulted(request: web.Request, state: GA4Sandbox, call: str) -> web.StreamResponse | None:
    if state.fault_target not in ("any", call):
        return None
    f = state.faults
    if f["drop"] > 0:
        f["drop"] -= 1
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError()
    if f["server_error"] > 0:
        f["server_error"] -= 1
        return google_error(500, "INTERNAL", "Internal error encountered.")
    if f["unavailable"] > 0:
        f["unavailable"] -= 1
        return google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
    if f["concurrent"] > 0:
        f["concurrent"] -= 1
        return google_error(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES["concurrentRequests"])
    return None


def add_routes(app: web.Application, world: World, clock: Any = None,
               key_path: str | Path | None = None) -> GA4Sandbox:
    """Mount the GA4 Data API under /ga4 and keep its state at `app[APP_KEY]`."""
    state = GA4Sandbox(world, clock, key_path)
    app[APP_KEY] = state

    async def token(request: web.Request) -> web.Response:
        st = app[APP_KEY]
        form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
        status, body = st.exchange({k: str(v) for k, v in form.items()})
        return web.json_response(body, status=status)

    async def property_call(request: web.Request) -> web.StreamResponse:
        st = app[APP_KEY]
        target = request.match_info["target"]
        pid, _, method = target.partition(":")
        try:
            if method not in ("runReport", "batchRunReports", "checkCompatibility"):
                raise ApiError(404, "NOT_FOUND", f"Method not found: {target}")
            err = st.check_token(request.headers.get("Authorization", ""))
            if err:
                raise err
            _property(pid)
            faulted = await _faulted(request, st, "runReport")
            if faulted is not None:
                return faulted
            if st.in_flight[pid] >= QUOTA_LIMITS["concurrentRequests"]:
                raise ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGES["concurrentRequests"])
            try:
                body = await request.json()
            except ValueError:
                raise bad("Invalid JSON payload received.") from None
            if not isinstance(body, dict):
                raise bad("Invalid JSON payload received. Expected an object.")
            if method == "checkCompatibility":   # answered from the metadata: no report runs, no quota charged
                st.requests[method] += 1
                return web.json_response(st.check_compatibility(pid, body))
            if method == "batchRunReports":   # up to 5 reports in one call, each charged as its own
                requests = _norm(body).get("requests")
                if not isinstance(requests, list) or not requests:
                    raise bad("requests must be set.")
                if len(requests) > 5:
                    raise bad(f"Batch requests allow at most 5 requests. This request has {len(requests)} requests.")
                if set(_norm(body)) - {"property", "requests"}:
                    raise bad("Invalid JSON payload received. Unknown name: Cannot find field.")
            st.requests[method] += 1
            st.in_flight[pid] += 1
            try:
                answers = [one_report(st, pid, report) for report in (requests if method == "batchRunReports" else [body])]
            finally:
                st.in_flight[pid] -= 1
        except ApiError as exc:
            return exc.response()
        if method == "batchRunReports":
            return web.Response(body=b'{"reports":[' + b",".join(answers) + b'],"kind":"analyticsData#batchRunReports"}',
                                content_type="application/json")
        return web.Response(body=answers[0], content_type="application/json")

    def one_report(st: GA4Sandbox, pid: str, body: Any) -> bytes:
        """One runReport answer, encoded: quota checked and charged."""
        if not isinstance(body, dict):
            raise bad("Invalid JSON payload received. Expected an object.")
        dims = {(d or {}).get("name") for d in (body.get("dimensions") or []) if isinstance(d, dict)}
        refused = st.refuse_for_quota(pid, bool(dims & THRESHOLD_DIMENSIONS))
        if refused:
            raise refused
        encoded, tokens, thresholded = st.cached_report(pid, body)
        st.charge(pid, tokens, thresholded)
        if _norm(body).get("returnPropertyQuota"):
            quota = json.dumps(st.quota_json(pid), separators=(",", ":")).encode()
            encoded = encoded[:-1] + b',"propertyQuota":' + quota + b"}"
        return encoded

    async def metadata(request: web.Request) -> web.StreamResponse:
        st = app[APP_KEY]
        try:
            err = st.check_token(request.headers.get("Authorization", ""))
            if err:
                raise err
            pid = _property(request.match_info["pid"])
            faulted = await _faulted(request, st, "metadata")
            if faulted is not None:
                return faulted
        except ApiError as exc:
            return exc.response()
        st.requests["metadata"] += 1
        return web.json_response(metadata_json(pid, st.custom_metric_types, st.dimensions))

    app.router.add_post(TOKEN_PATH, token)
    app.router.add_post(API + "/properties/{target}", property_call)
    app.router.add_get(API + "/properties/{pid}/metadata", metadata)
    return state


# ---- control hooks ----------------------------------------------------------------------------------
def reset(app: web.Application, world: World | None = None) -> GA4Sandbox:
    """Rebuild from `world` (default: the current one): revision, quota, tokens, faults, counters cleared.
    The service-account key is kept."""
    state = app[APP_KEY]
    state.load(world or state.world)
    return state


def add_control_routes(app: web.Application, prefix: str = "/_sandbox/ga4") -> None:
    """GET  {prefix}/service-account-key          the sandbox key file (token_uri = this host)
    POST {prefix}/token {scope?}                  mint an access token (for the access_token setting)
    POST {prefix}/restate {times?}                recent days gain data (see completeness)
    POST {prefix}/sessions {sessions: [{landingPage?, sessionCampaignName?, sessionSource?}], property_id?, days_ago?}
                                                  late sessions with these values (see add_sessions)
    POST {prefix}/quota {property_id?, tokensPerDay?, tokensPerHour?, tokensPerProjectPerHour?, ...}  set remaining
    GET  {prefix}/quota?property_id=              current propertyQuota
    POST {prefix}/faults {server_error?, unavailable?, concurrent?, drop?, on?: any|runReport|metadata}
    POST {prefix}/config {other_row_limit?, thresholding?, sampling_above_days?}
    POST {prefix}/metric-type {metric, type}      a custom metric's unit changed (see set_metric_type)
    POST {prefix}/custom-dimensions {parameter, scope?, like?}  a custom dimension registered (add_custom_dimension)
    POST {prefix}/tokens/expire                   every issued access token expires now
    GET  {prefix}/counts                          requests and tokens charged
    POST {prefix}/reset"""

    async def _call(request, fn):
        try:
            body = await request.json() if request.can_read_body else {}
            return web.json_response(fn(body or {}))
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    def base_url(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def key(request):
        return web.json_response(app[APP_KEY].service_account_key(base_url(request)))

    async def mint(request):
        return await _call(request, lambda b: app[APP_KEY].issue_token(b.get("scope", SCOPES_OK[0]), "control"))

    async def restate(request):
        return await _call(request, lambda b: app[APP_KEY].restate(int(b.get("times", 1))))

    async def sessions(request):
        return await _call(request, lambda b: app[APP_KEY].add_sessions(
            list(b["sessions"]), str(b.get("property_id", "412345678")), int(b.get("days_ago", 1))))

    async def quota(request):
        if request.method == "GET":
            return web.json_response(app[APP_KEY].quota_json(request.query.get("property_id", next(iter(PROPERTIES)))))
        return await _call(request, lambda b: app[APP_KEY].set_quota(**b))

    async def faults(request):
        return await _call(request, lambda b: app[APP_KEY].set_faults(**b))

    async def config(request):
        return await _call(request, lambda b: app[APP_KEY].configure(**b))

    async def metric_type(request):
        return await _call(request, lambda b: app[APP_KEY].set_metric_type(str(b["metric"]), str(b["type"])))

    async def custom_dimension(request):
        return await _call(request, lambda b: app[APP_KEY].add_custom_dimension(**b))

    async def expire(request):
        return web.json_response({"expired": app[APP_KEY].expire_tokens()})

    async def counts(request):
        st = app[APP_KEY]
        return web.json_response({"requests": dict(st.requests), "tokens_charged": dict(st.tokens_charged),
                                  "revision": st.revision})

    async def do_reset(request):
        reset(app)
        return web.json_response({"reset": True})

    app.router.add_get(prefix + "/service-account-key", key)
    app.router.add_post(prefix + "/token", mint)
    app.router.add_post(prefix + "/restate", restate)
    app.router.add_post(prefix + "/sessions", sessions)
    app.router.add_get(prefix + "/quota", quota)
    app.router.add_post(prefix + "/quota", quota)
    app.router.add_post(prefix + "/faults", faults)
    app.router.add_post(prefix + "/config", config)
    app.router.add_post(prefix + "/metric-type", metric_type)
    app.router.add_post(prefix + "/custom-dimensions", custom_dimension)
    app.router.add_post(prefix + "/tokens/expire", expire)
    app.router.add_get(prefix + "/counts", counts)
    app.router.add_post(prefix + "/reset", do_reset)


def make_app(world: World, clock: Any = None, key_path: str | Path | None = None) -> web.Application:
    """A stand-alone app with only GA4 (tests, benchmarks)."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    add_routes(app, world, clock, key_path)
    add_control_routes(app)
    return app


def main(argv: list | None = None) -> None:
    """`python -m tributary_sandbox.ga4 --port 8767 --scale 1 [--key-file path]` serves GA4 alone."""
    import argparse

    from .world import build_world
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8767)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--today", default=None)
    p.add_argument("--key-file", default=None, help="write the service-account key file here")
    p.add_argument("--other-row-limit", type=int, default=OTHER_ROW_LIMIT)
    a = p.parse_args(argv)
    today = dt.date.fromisoformat(a.today) if a.today else None
    app = make_app(build_world(a.seed, a.scale, today))
    app[APP_KEY].other_row_limit = a.other_row_limit
    if a.key_file:
        app[APP_KEY].write_service_account_key(a.key_file, f"http://{a.host}:{a.port}")
    web.run_app(app, host=a.host, port=a.port,
                print=lambda *_: print(f"ga4 sandbox on http://{a.host}:{a.port}{PREFIX}", flush=True))


if __name__ == "__main__":
    main()
