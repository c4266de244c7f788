"""The /_sandbox/__source__/ hooks tests drive:

    GET  records   every record the API holds (the ground truth tests compare with)
    POST mutate    {"update": n, "create": n}: change n records and add n, stamped now
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import NAME
from .data import stamp

if TYPE_CHECKING:
    from . import Simulator


def mutate(simulator: "Simulator", update: int = 0, create: int = 0) -> dict:
    """Change the first `update` records (by id) and add `create` new ones, all stamped now."""
    records = simulator.customers.records
    now = stamp(simulator.clock.now())
    updated = []
    for record_id in sorted(records)[:update]:
        record = records[record_id]
        record["status"] = "churned" if record["status"] == "active" else "active"
        record["lifetime_value"] = f"{float(record['lifetime_value']) + 10:.2f}"
        record["updated_at"] = now
        updated.append(record_id)
    simulator.customers.changed()
    created = []
    for _ in range(create):
        record_id = f"cus_{900_000 + len(records):06d}"
        simulator.customers.add({"id": record_id, "name": f"New Customer {len(records)}",
                                 "email": f"new{len(records)}@example.com", "company_domain": None,
                                 "status": "active", "lifetime_value": "0.00", "created_at": now, "updated_at": now})
        created.append(record_id)
    return {"updated": updated, "created": created}


def add_routes(app: web.Application, simulator: "Simulator") -> None:
    prefix = f"/_sandbox/{NAME}"

    async def records(request: web.Request) -> web.Response:
        return web.json_response(sorted(simulator.customers.records.values(), key=lambda rec: rec["id"]))

    async def do_mutate(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        return web.json_response(mutate(simulator, int(body.get("update", 0)), int(body.get("create", 0))))

    app.router.add_get(prefix + "/records", records)
    app.router.add_post(prefix + "/mutate", do_mutate)
