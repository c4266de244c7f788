"""The one place where tap-shopify talks HTTP: tokens, cost-based pacing, THROTTLED/429/5xx
retries, errors and bulk-file download.

Pacing (Shopify's leaky bucket): every response carries extensions.cost.throttleStatus
{maximumAvailable, currentlyAvailable, restoreRate}. The client keeps that bucket's state and,
before a request whose requested cost is larger than what the bucket holds now (last reading
plus restoreRate x elapsed), sleeps exactly the missing points / restoreRate. A THROTTLED answer
(HTTP 200 with errors[].extensions.code THROTTLED, or HTTP 429) waits the same computed time
(or Retry-After) and retries the same request; 5xx and dropped connections back off
exponentially; 401/403 stop at once with the setting to fix. The Retry-After reading, the
exponential waits and the retry log line are tap-support's (tributary_tap_support.retry).
"""
from __future__ import annotations

import gc
import json
import logging
import threading
import time
import typing as t

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError
from tributary_tap_support.reach import reach, unreachable_error
from tributary_tap_support.retry import RetryWaits, retry_line

LOGGER = logging.getLogger("tap-shopify")
TOKEN_RENEW_MARGIN = 300        # renew a client-credentials token 5 minutes before it expires
MAX_RETRIES = 8                 # 5xx / dropped connections
MAX_THROTTLE_RETRIES = 30       # THROTTLED / 429: each waits the computed refill time
MAX_PARTIAL_RETRIES = 3         # 200 answers with errors[] beside data (a resolver failed): 1, 2, 4 s apart
ACCESS_TOKEN_HINT = ("check TAP_SHOPIFY_ACCESS_TOKEN (the Admin API access token of a custom app "
                     "installed on this shop, shpat_...)")
CLIENT_HINT = "check TAP_SHOPIFY_CLIENT_ID and TAP_SHOPIFY_CLIENT_SECRET (the app's client credentials)"


class ShopifyAuthError(FatalAPIError):
    """Shopify refused the token or the client credentials: a setting has to be fixed."""


class ShopifyAPIError(FatalAPIError):
    """Shopify answered with errors that retrying cannot fix."""


def sleep(seconds: float) -> None:  # patched by tests
    time.sleep(seconds)


_decode = msgspec.json.Decoder().decode


def parse_json(content: bytes) -> t.Any:
    """msgspec on the raw bytes, with the cyclic GC paused while a page's containers are built
    (a page is a tree of fresh, acyclic containers; collections triggered by them cost more
    than the parse)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _decode(content)
    except msgspec.DecodeError:
        return json.loads(content)
    finally:
        if paused:
            gc.enable()


class Bucket:
    """The client's view of Shopify's leaky bucket for this app and shop."""

    def __init__(self) -> None:
        self.maximum: float | None = None
        self.available: float | None = None
        self.restore_rate: float | None = None
        self.read_at = 0.0
        self.lock = threading.Lock()

    def update(self, status: dict | None) -> None:
        if not status:
            return
        with self.lock:
            self.maximum = float(status.get("maximumAvailable") or 0) or self.maximum
            self.available = float(status.get("currentlyAvailable") or 0)
            self.restore_rate = float(status.get("restoreRate") or 0) or self.restore_rate
            self.read_at = time.monotonic()

    def now(self) -> float | None:
        if self.available is None or not self.restore_rate:
            return None
        return min(self.maximum or float("inf"), self.available + (time.monotonic() - self.read_at) * self.restore_rate)

    def wait_for(self, cost: float) -> float:
        """Seconds to wait until `cost` points are available (0 if they are, or unknown)."""
        have = self.now()
        if have is None or have >= cost:
            return 0.0
        if self.maximum is not None and cost > self.maximum:
            cost = self.maximum
        return (cost - have) / self.restore_rate


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.requested_cost = 0
        self.actual_cost = 0
        self.throttled = 0
        self.waited = 0.0
        self.retries: list[dict] = []
        self.token_exchanges = 0


class ShopifyClient:
    """GraphQL over HTTP for one shop: `execute(query, variables, cost=...)` -> data."""

    def __init__(self, config: t.Mapping) -> None:
        self.config = config
        shop = (config.get("shop") or "").strip()
        self.shop = shop.removesuffix(".myshopify.com").removeprefix("https://")
        self.version = config.get("api_version") or "2026-10"
        base = (config.get("api_url") or f"https://{self.shop}.myshopify.com").rstrip("/")
        self.base = base
        shop_url = f"https://{self.shop}.myshopify.com"
        url_hint = (f"check TAP_SHOPIFY_API_URL (when unset: {shop_url}, from TAP_SHOPIFY_SHOP)"
                    if config.get("api_url") else
                    f"check TAP_SHOPIFY_SHOP (the shop's name; its API is {shop_url}) or TAP_SHOPIFY_API_URL")
        # A refused connection or an unknown host at first contact: named at once (reach.py)
        self.unreachable = unreachable_error("Shopify Admin API", url_hint)
        self.graphql_url = f"{base}/admin/api/{self.version}/graphql.json"
        self.token_url = f"{base}/admin/oauth/access_token"
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json", "Accept": "application/json",
                                     "User-Agent": config.get("user_agent") or "tap-shopify/0.1 (+Tributary)"})
        self.timeout = float(config.get("request_timeout") or 300)
        self.bucket = Bucket()
        self.stats = Stats()
        self._token: str | None = config.get("access_token") or None
        self._token_expires: float | None = None
        self._uses_client_credentials = not self._token
        if self._uses_client_credentials and not (config.get("client_id") and config.get("client_secret")):
            raise ShopifyAuthError("No Shopify credentials: set TAP_SHOPIFY_ACCESS_TOKEN, or TAP_SHOPIFY_CLIENT_ID "
                                   "and TAP_SHOPIFY_CLIENT_SECRET for the client-credentials grant.")

    # -- tokens -----------------------------------------------------------------------------------
    def token(self) -> str:
        if not self._uses_client_credentials:
            return self._token  # type: ignore[return-value]
        if self._token is None or self._token_expires is None or time.monotonic() > self._token_expires - TOKEN_RENEW_MARGIN:
            self._exchange()
        return self._token  # type: ignore[return-value]

    def _exchange(self) -> None:
        """POST /admin/oauth/access_token, grant_type=client_credentials (tokens live 24 h)."""
        data = {"grant_type": "client_credentials", "client_id": self.config["client_id"],
                "client_secret": self.config["client_secret"]}
        resp = self._send(lambda: requests.post(self.token_url, data=data, timeout=self.timeout,
                                                headers={"Accept": "application/json"}), "token exchange")
        if resp.status_code >= 400:
            raise ShopifyAuthError(f"Shopify refused the client credentials ({resp.status_code}: "
                                   f"{_short(resp)}): {CLIENT_HINT}.")
        body = resp.json()
        self._token = body["access_token"]
        self._token_expires = time.monotonic() + float(body.get("expires_in") or 86399)
        self.stats.token_exchanges += 1
        LOGGER.info("Obtained a Shopify access token by client credentials (expires in %s s)", body.get("expires_in"))

    # -- transport ---------------------------------------------------------------------------------
    def _send(self, call: t.Callable[[], requests.Response], what: str) -> requests.Response:
        """One HTTP exchange with retries for dropped connections, 5xx and 429 (Retry-After obeyed)."""
        attempt = throttled = 0
        waits = RetryWaits()
        while True:
            try:
                resp = reach(call, self.base, self.unreachable)
            except (requests.ConnectionError, requests.Timeout) as exc:
                attempt += 1
                if attempt >= MAX_RETRIES:
                    raise ShopifyAPIError(f"Shopify {what}: no answer after {attempt} tries ({exc})") from None
                self._backoff(what, type(exc).__name__, waits.next(), attempt)
                continue
            if resp.status_code >= 500:
                attempt += 1
                if attempt >= MAX_RETRIES:
                    raise ShopifyAPIError(f"Shopify {what}: HTTP {resp.status_code} after {attempt} tries: {_short(resp)}")
                self._backoff(what, resp.status_code, waits.next(), attempt)
                continue
            if resp.status_code == 429:
                throttled += 1
                if throttled >= MAX_THROTTLE_RETRIES:
                    raise ShopifyAPIError(f"Shopify {what}: still throttled (429) after {throttled} tries")
                retry_after = resp.headers.get("Retry-After")
                self.stats.throttled += 1
                self._backoff(what, 429, waits.next(retry_after), throttled, retry_after)
                continue
            return resp

    def _backoff(self, what: str, status: object, wait: float, tries: int, retry_after: str | None = None) -> None:
        LOGGER.warning("%s", retry_line("Shopify", status, what, tries, wait, retry_after))
        self.stats.retries.append({"status": status, "wait": wait, "what": what})
        self.stats.waited += wait
        sleep(wait)

    def execute(self, query: str, variables: dict | None = None, *, cost: float = 0, what: str = "query") -> dict:
        """Run one GraphQL document; returns `data`. `cost` is the requested-cost estimate used
        to pace before sending.

        A 200 answer with `errors` beside `data` is a partial answer: the errored paths are null.
        Kept, a null would overwrite the loaded value (the loader upserts whole rows) and the
        bookmark would move past the record, so it is retried and then fails naming the paths."""
        throttled = partial = 0
        renewed = False
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        while True:
            wait = self.bucket.wait_for(cost)
            if wait > 0:
                LOGGER.debug("Pacing %s: %.2f s until %s points are available", what, wait, cost)
                self.stats.waited += wait
                sleep(wait)
            token = self.token()
            resp = self._send(lambda: self.session.post(self.graphql_url, data=body, timeout=self.timeout,
                                                        headers={"X-Shopify-Access-Token": token}), what)
            self.stats.requests += 1
            if resp.status_code in (401, 403):
                if self._uses_client_credentials and not renewed and resp.status_code == 401:
                    renewed = True          # the token may have expired early or been revoked
                    self._token = None
                    continue
                hint = CLIENT_HINT if self._uses_client_credentials else ACCESS_TOKEN_HINT
                raise ShopifyAuthError(f"Shopify rejected the access token ({resp.status_code}: {_short(resp)}): "
                                       f"{hint}; shop {self.shop!r}, api_url {self.base}.")
            if resp.status_code == 404:
                raise ShopifyAPIError(f"Shopify answered 404 for {self.graphql_url}: check TAP_SHOPIFY_SHOP and "
                                      f"TAP_SHOPIFY_API_VERSION ({self.version!r}).")
            if resp.status_code >= 400:
                raise ShopifyAPIError(f"Shopify answered HTTP {resp.status_code} to {what}: {_short(resp)}")
            try:
                payload = parse_json(resp.content)
            except ValueError as exc:
                raise ShopifyAPIError(
                    f"Shopify answered {what} with a body that is not valid JSON ({exc}; {len(resp.content)} "
                    "bytes, cut off or corrupted on the way). The run stopped; the bookmark stays at the last "
                    "complete page. Fix: run again.") from None
            cost_info = (payload.get("extensions") or {}).get("cost") or {}
            self.bucket.update(cost_info.get("throttleStatus"))
            errors = payload.get("errors") or []
            codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                throttled += 1
                self.stats.throttled += 1
                if throttled >= MAX_THROTTLE_RETRIES:
                    raise ShopifyAPIError(f"Shopify kept answering THROTTLED to {what} ({throttled} tries)")
                requested = float(cost_info.get("requestedQueryCost") or cost or 1)
                cost = max(cost, requested)
                wait = self.bucket.wait_for(requested) or 1.0
                self._backoff(what, "THROTTLED", wait, throttled)
                continue
            if errors:
                msgs = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
                if "MAX_COST_EXCEEDED" in codes:
                    raise QueryTooCostly(msgs)
                if "ACCESS_DENIED" in codes:
                    raise ShopifyAuthError(f"Shopify denied access to {what}: {msgs} (the app needs the read "
                                           "scope for it, e.g. read_orders/read_all_orders, read_customers, "
                                           "read_products, read_inventory, read_locations)")
                if payload.get("data") is None:
                    raise ShopifyAPIError(f"Shopify GraphQL errors on {what}: {msgs}")
                paths = ", ".join(sorted({".".join(map(str, e.get("path") or ["?"])) for e in errors
                                          if isinstance(e, dict)})) or "?"
                partial += 1
                if partial > MAX_PARTIAL_RETRIES:
                    raise ShopifyAPIError(
                        f"Shopify answered {what} with errors at {paths} ({msgs}) {partial} times: no record of "
                        "that page was sent (its errored fields would have overwritten good values with nulls), "
                        "and the bookmark stays at the last complete page. Fix: run again later; if it repeats, "
                        "check those fields in Shopify's status page or the app's scopes.")
                self._backoff(what, f"errors at {paths}", 2 ** (partial - 1), partial)
                continue
            self.stats.requested_cost += int(cost_info.get("requestedQueryCost") or 0)
            self.stats.actual_cost += int(cost_info.get("actualQueryCost") or 0)
            return payload.get("data") or {}

    def download(self, url: str) -> t.Iterator[bytes]:
        """Stream a bulk-operation JSONL file line by line (a signed URL: no Shopify token)."""
        resp = self._send(lambda: requests.get(url, stream=True, timeout=self.timeout), "bulk download")
        if resp.status_code >= 400:
            raise ShopifyAPIError(f"Could not download the bulk operation result ({resp.status_code}): {_short(resp)}")
        with resp:
            yield from resp.iter_lines(chunk_size=1 << 20)


class QueryTooCostly(ShopifyAPIError):
    """MAX_COST_EXCEEDED: the caller halves its page size and retries."""


def _short(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return (resp.text or resp.reason or "").strip()[:300]
    if isinstance(body, dict):
        for key in ("errors", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]
