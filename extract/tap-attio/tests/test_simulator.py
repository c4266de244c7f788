"""The simulator's control hooks, over HTTP as the lead's app would mount them."""
from __future__ import annotations

import requests


def test_control_routes_mutate_drift_limits_faults_reset(sandbox):
    base = f"{sandbox.url}/_sandbox/attio"
    before = requests.get(f"{base}/counts", timeout=10).json()
    changed = requests.post(f"{base}/mutate", json={"object": "deals", "update": 2, "create": 1, "delete": 1},
                            timeout=10).json()
    assert len(changed["updated"]) == 2 and len(changed["created"]) == 1 and len(changed["deleted"]) == 1
    after = requests.get(f"{base}/counts", timeout=10).json()
    assert after["deals"] == before["deals"]          # +1 -1
    attr = requests.post(f"{base}/attributes", json={"object": "people", "api_slug": "nps", "type": "number"},
                         timeout=10).json()
    assert attr["api_slug"] == "nps" and attr["type"] == "number"
    rule = {"vendor": "attio", "kind": "status", "status": 500}
    assert requests.post(f"{sandbox.url}/_sandbox/faults", json={"rules": [rule]}, timeout=10).ok
    h = {"Authorization": "Bearer sandbox-attio-api-key"}
    assert requests.get(f"{sandbox.api_url}/objects", headers=h, timeout=10).status_code == 500
    assert requests.get(f"{sandbox.api_url}/objects", headers=h, timeout=10).status_code == 200
    assert requests.get(f"{base}/limits", timeout=10).json() == {"enabled": True, "reads_per_second": 100}
    requests.post(f"{base}/limits", json={"reads_per_second": 1}, timeout=10).raise_for_status()
    limited = [requests.get(f"{sandbox.api_url}/objects", headers=h, timeout=10) for _ in range(2)][-1]
    assert limited.status_code == 429 and "1 read requests per second" in limited.json()["message"]
    requests.post(f"{base}/reset", timeout=10).raise_for_status()
    assert requests.get(f"{base}/counts", timeout=10).json() == before
    assert requests.get(f"{base}/limits", timeout=10).json() == {"enabled": True, "reads_per_second": 100}


def test_updated_value_keeps_history(sandbox):
    h = {"Authorization": "Bearer sandbox-attio-api-key"}
    change = sandbox.call(sandbox.state.mutate, "deals", update=1)["updated"][0]
    rec = requests.get(f"{sandbox.api_url}/objects/deals/records/{change['record_id']}", headers=h,
                       timeout=10).json()["data"]
    stage = rec["values"]["stage"]
    assert stage[-1]["active_until"] is None and stage[-1]["status"]["title"] == change["value"]
    assert all(v["active_until"] for v in stage[:-1])
