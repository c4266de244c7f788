"""QuickBooks Online (Accounting API v3) simulated, faithful to what tap-quickbooks 2.5.0 sends.

Laid out like every vendor in the sandbox (vendors/__init__.py): data.py the books projected from
the shared world, auth.py Intuit's OAuth (credentials, rotating tokens, the token endpoint),
api.py the /v3/company/{realm}/... routes (queries, batch, CDC, reports, throttling), control.py
the /_sandbox/quickbooks/ hooks. The community tap runs unmodified: it reaches Intuit's real hosts
(HOSTS) through the sandbox's HTTPS proxy, so there is no API_PATH.

Faults are the sandbox's shared rules (faults.py), e.g. POST /_sandbox/faults
{"rules": [{"vendor": "quickbooks", "kind": "status", "status": 429}]}: a 429 is Intuit's XML
ThrottleExceeded Fault, other statuses a JSON SystemFault. Intuit's real rate limits are a
setting, not a fault: POST /_sandbox/quickbooks/throttle. Served alone (a benchmark):
`python -m tributary_sandbox one quickbooks --port 8765 --scale 1`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aiohttp import web

from ...clock import Clock
from ...faults import Faults
from ...world import World

NAME = "quickbooks"
API_PATH = None                 # the tap reaches Intuit's own hosts, through the proxy
PATHS = ("/v3/company/", "/oauth2/v1/", "/.well-known/", "/v2/oauth2/")
HOSTS = ("quickbooks.api.intuit.com", "sandbox-quickbooks.api.intuit.com", "oauth.platform.intuit.com",
         "appcenter.intuit.com", "developer.intuit.com", "developer.api.intuit.com")
FAULT_KINDS: dict[str, str] = {}

from . import api, auth, control  # noqa: E402  (after the names above, which they read)
from .api import Throttle, throttle_response  # noqa: E402
from .auth import TOKENS_FILE, TokenStore  # noqa: E402
from .auth import CLIENT_ID, CLIENT_SECRET, INITIAL_REFRESH_TOKEN, REALM_ID  # noqa: E402,F401  (the credentials clients use)
from .data import project  # noqa: E402


class Simulator:
    """The company's books (data.py), the app's tokens (auth.py) and the throttle's settings
    (api.py); rebuilt in place on /_sandbox/reset. With a state dir, the rotated refresh tokens
    outlive a restart."""

    def __init__(self, world: World, clock: Clock, faults: Faults, state_dir: Path | None = None, *,
                 realm_id: str = REALM_ID, refresh_token: str = INITIAL_REFRESH_TOKEN,
                 company_name: str = "Tributary Trading Co", tokens_file: str = TOKENS_FILE,
                 fiscal_year_start_month: int = 1, multicurrency: bool = True) -> None:
        self.clock, self.faults = clock, faults
        self.realm_id, self.company_name = realm_id, company_name
        # The company's fiscal year (its preferences, its BalanceSheet's Retained Earnings and Net Income)
        self.fiscal_year_start_month = fiscal_year_start_month
        # Multicurrency on: the company also trades in euros (data.project_foreign_currency)
        self.multicurrency = multicurrency
        # Every company the app is connected to, by realm id: the API routes and the token endpoint
        # find a request's company here (another one joins through serve_instance).
        self.companies = {realm_id: self}
        self.tokens = TokenStore(clock, initial_refresh_token=refresh_token)
        self.throttle = Throttle()
        self.load(world)
        if state_dir is not None:  # from here on the refresh tokens outlive a restart
            self.tokens.saved_to = Path(state_dir) / tokens_file
            self.tokens.restore() or self.tokens.save()

    def load(self, world: World) -> None:
        self.world = world
        self.books = project(world, self.multicurrency)
        self.tokens.reset()
        self.throttle.configure(enabled=False)
        self.mutations = 0

    def error_response(self, status: int, rule: dict) -> web.Response:
        """An injected status as Intuit answers it: a 429 is its XML throttle Fault, anything else
        a JSON SystemFault."""
        if status == 429:
            return throttle_response(self.clock.now())
        body = {"Fault": {"Error": [{"Message": "An application error has occurred while processing your request",
                                     "Detail": f"Injected fault (HTTP {status})", "code": "10000"}],
                          "type": "SystemFault"}}
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    def expire_tokens(self) -> int:
        """What an "expire_tokens" fault calls: every access token dies now, refresh tokens stay good."""
        return self.tokens.expire_access()

    def mutate(self, **change) -> dict:
        """What a "mutate" fault calls, with POST /_sandbox/quickbooks/mutate's arguments
        (seed, new, updated, deleted): a change between two pages of one run."""
        return {"changes": control.mutate(self, **change)}


def instance_options(instance: str) -> dict:
    """Another company the same app is connected to (app.py, instances): its own realm id, refresh
    token and name. The company's ids overlap the first's, as two real companies' do. Its fiscal
    year starts in April, not January as the first company's: a warehouse of several businesses
    holds years that close in different months, and each must close its own. It trades in its home
    currency only (multicurrency off), as most small businesses do."""
    return {"realm_id": instance_realm_id(instance), "refresh_token": f"sandbox-refresh-token-{instance}-0",
            "company_name": f"{instance.capitalize()} Trading Co",
            "tokens_file": f"quickbooks-{instance}-refresh-tokens.json", "fiscal_year_start_month": 4,
            "multicurrency": False}


def instance_realm_id(instance: str) -> str:
    """A company's realm id, stable for its name (16 digits, like Intuit's)."""
    return str(9130350000000000 + 1 + int(hashlib.sha256(instance.encode()).hexdigest()[:8], 16) % 99999 + 1)


def serve_instance(default: Simulator, instance: Simulator) -> None:
    """Another company is reached where Intuit serves every company: on Intuit's own hosts, by the
    realm id in the URL and by its refresh token at the token endpoint (and its hooks under
    /instances/<name>/_sandbox/quickbooks/)."""
    default.companies[instance.realm_id] = instance
    instance.companies = default.companies


def mount(app: web.Application, simulator: Simulator) -> None:
    auth.add_routes(app, simulator)
    api.add_routes(app, simulator)
    control.add_routes(app, simulator)
