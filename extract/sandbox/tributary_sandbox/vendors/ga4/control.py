"""/_sandbox/ga4/...: what tests and the demo drive between (or during) runs.

  GET  /_sandbox/ga4/service-account-key          the sandbox key file (token_uri = this host)
  POST /_sandbox/ga4/token {scope?}                mint an access token (for the access_token setting)
  POST /_sandbox/ga4/restate {times?}              recent days gain data (see data.py's restatement)
  POST /_sandbox/ga4/sessions {sessions: [{landingPage?, sessionCampaignName?, sessionSource?}],
                               property_id?, days_ago?}
                                                   late sessions with these values (see Sessions.add_sessions)
  POST /_sandbox/ga4/quota {property_id?, tokensPerDay?, tokensPerHour?, tokensPerProjectPerHour?, ...}  set remaining
  GET  /_sandbox/ga4/quota?property_id=            current propertyQuota
  POST /_sandbox/ga4/config {other_row_limit?, thresholding?, sampling_above_days?}   the data-loss knobs
  POST /_sandbox/ga4/metric-type {metric, type}    a custom metric's unit changed (see Reports.set_metric_type)
  POST /_sandbox/ga4/custom-dimensions {parameter, scope?, like?}  a custom dimension registered
  POST /_sandbox/ga4/tokens/expire                 every issued access token expires now
  GET  /_sandbox/ga4/counts                        requests and tokens charged
  POST /_sandbox/ga4/reset                         rebuild from the current world (the key is kept)
Faults (5xx, 429, dropped connections) are rules of the shared POST /_sandbox/faults (faults.py).
"""
from __future__ import annotations

from aiohttp import web

from . import NAME
from .auth import SCOPES_OK

PREFIX = f"/_sandbox/{NAME}"


def add_routes(app: web.Application, simulator) -> None:
    async def _call(request, fn):
        try:
            body = await request.json() if request.can_read_body else {}
            return web.json_response(fn(body or {}))
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    def base_url(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def key(request):
        return web.json_response(simulator.auth.service_account_key(base_url(request) + simulator.mounted_at))

    async def mint(request):
        return await _call(request, lambda b: simulator.auth.issue_token(b.get("scope", SCOPES_OK[0]), "control"))

    async def restate(request):
        return await _call(request, lambda b: simulator.data.restate(int(b.get("times", 1))))

    def add_sessions(b: dict) -> dict:
        added = simulator.data.add_sessions(list(b["sessions"]), b.get("property_id") and str(b["property_id"]),
                                            int(b.get("days_ago", 1)))
        simulator.reports.forget()             # answers memoised before are stale now
        return added

    async def sessions(request):
        return await _call(request, add_sessions)

    async def quota(request):
        if request.method == "GET":
            return web.json_response(simulator.quota.as_json(request.query.get("property_id", next(iter(simulator.properties)))))
        return await _call(request, lambda b: simulator.quota.set_remaining(**b))

    async def config(request):
        return await _call(request, lambda b: simulator.reports.configure(**b))

    async def metric_type(request):
        return await _call(request, lambda b: simulator.reports.set_metric_type(str(b["metric"]), str(b["type"])))

    async def custom_dimension(request):
        return await _call(request, lambda b: simulator.reports.add_custom_dimension(**b))

    async def expire(request):
        return web.json_response({"expired": simulator.expire_tokens()})

    async def counts(request):
        return web.json_response({"requests": dict(simulator.requests),
                                  "tokens_charged": dict(simulator.quota.tokens_charged),
                                  "revision": simulator.data.revision})

    async def reset(request):
        simulator.load(simulator.world)
        return web.json_response({"reset": True})

    app.router.add_get(PREFIX + "/service-account-key", key)
    app.router.add_post(PREFIX + "/token", mint)
    app.router.add_post(PREFIX + "/restate", restate)
    app.router.add_post(PREFIX + "/sessions", sessions)
    app.router.add_get(PREFIX + "/quota", quota)
    app.router.add_post(PREFIX + "/quota", quota)
    app.router.add_post(PREFIX + "/config", config)
    app.router.add_post(PREFIX + "/metric-type", metric_type)
    app.router.add_post(PREFIX + "/custom-dimensions", custom_dimension)
    app.router.add_post(PREFIX + "/tokens/expire", expire)
    app.router.add_get(PREFIX + "/counts", counts)
    app.router.add_post(PREFIX + "/reset", reset)
