"""__Source__'s records, made from the shared world (world.py): one customer per person, so its
customers are the people the other sources know, with a status and a lifetime value of this
source's own. Replace the shape with your vendor's as its API reference documents it."""
from __future__ import annotations

import bisect
import datetime as dt

from ...world import World


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class Customers:
    """The customers the API serves, by id, and their API order."""

    def __init__(self, world: World) -> None:
        r = world.rng("__source__")
        last_moment = dt.datetime.combine(world.today, dt.time(), dt.timezone.utc) - dt.timedelta(seconds=1)
        self.records: dict[str, dict] = {}
        self._sorted: tuple[list, list] | None = None   # (records, keys) in API order; None = stale
        for person in world.people:
            # Last changed somewhere between creation and yesterday, most of them long ago.
            span = max(0, int((last_moment - person.created).total_seconds()))
            updated = person.created + dt.timedelta(seconds=int(span * r.random() ** 3))
            company = world.companies[person.company].domain if person.company is not None else None
            self.add({
                "id": f"cus_{person.idx:06d}",
                "name": f"{person.first} {person.last}",
                "email": person.email,
                "company_domain": company,
                "status": "churned" if r.random() < 0.12 else "active",
                "lifetime_value": f"{r.randrange(0, 500_000) / 100:.2f}",
                "created_at": stamp(person.created),
                "updated_at": stamp(updated),
            })

    def add(self, record: dict) -> None:
        self.records[record["id"]] = record
        self._sorted = None

    def changed(self) -> None:
        self._sorted = None

    def in_api_order(self) -> tuple[list[dict], list[tuple]]:
        """Records by (updated_at, id), sorted once per change: a page costs a bisect, so a
        benchmark measures the client, not this server."""
        if self._sorted is None:
            rows = sorted(self.records.values(), key=lambda rec: (rec["updated_at"], rec["id"]))
            self._sorted = (rows, [(rec["updated_at"], rec["id"]) for rec in rows])
        return self._sorted

    def since(self, updated_since: str | None) -> int:
        """Position of the first record updated at or after `updated_since` (inclusive)."""
        _, keys = self.in_api_order()
        return bisect.bisect_left(keys, (stamp(parse_stamp(updated_since)), "")) if updated_since else 0

    def after(self, key: tuple) -> int:
        _, keys = self.in_api_order()
        return bisect.bisect_right(keys, key)
