"""Benchmark: the loader's records/s against PostgreSQL COPY of the same rows.

Generates ~200k order-like records (nested objects and arrays of objects, ~860 B each, like
Shopify orders or QuickBooks invoices) as Singer messages, starts a warehouse of its own
(load/warehouse.py on a free port, data in a temp folder) and measures, alternating, N times each:
  (a) ceiling: PostgreSQL COPY of the same rows, already serialised, into a table with a primary
      key (one figure with nested arrays as jsonb, one as jsonb[]);
  (b) the stock meltanolabs target-postgres with its defaults, messages replayed on stdin;
  (b') the same with the settings the project used before the tuned target
      (use_copy, add_record_metadata);
  (c) our tuned target (load/target-postgres-wrapper) with the project's settings;
  (d) the tap -> target pipe: tap-attio reading the Attio simulator (--people records) piped into
      the stock target and into the tuned target (processes started here, as Meltano does).
Every load validates records (the default), and every load is checked: row count, distinct keys
and a checksum of a nested value (sum of every line item's quantity) against the generated data.
Reports medians of records/s (wall time of the target process, start-up included) and the ratio
to COPY. Writes bench/results/target_postgres.json.

    .venv/bin/python bench/target_postgres.py [--records 200000] [--runs 3] [--people 100000]
Not a test: it prints figures and never fails on them (a failed load check is reported as such).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "target_postgres.json"
TARGET_BIN = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
STREAM = "orders"
SCHEMA_NAME = "bench"

# -- the generated records ------------------------------------------------------------------------
MONEY = {"type": ["object", "null"], "properties": {
    "amount": {"type": ["string", "null"]}, "currencyCode": {"type": ["string", "null"]}}}
ADDRESS = {"type": ["object", "null"], "properties": {
    k: {"type": ["string", "null"]} for k in ("address1", "city", "province", "zip", "countryCode")}}
ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "createdAt": {"type": ["string", "null"], "format": "date-time"},
        "updatedAt": {"type": ["string", "null"], "format": "date-time"},
        "financialStatus": {"type": ["string", "null"]},
        "totalPrice": {"type": ["number", "null"]},
        "itemCount": {"type": ["integer", "null"]},
        "test": {"type": ["boolean", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "customer": {"type": ["object", "null"], "properties": {
            "id": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
            "firstName": {"type": ["string", "null"]}, "lastName": {"type": ["string", "null"]}}},
        "shippingAddress": ADDRESS,
        "totalTaxSet": MONEY,
        "lineItems": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "id": {"type": ["string", "null"]}, "sku": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]}, "quantity": {"type": ["integer", "null"]},
            "originalUnitPriceSet": MONEY}}},
        "discountApplications": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "code": {"type": ["string", "null"]}, "value": {"type": ["number", "null"]}}}},
    },
}
WORDS = "alpine basic canvas denim everyday field garden harbor linen merino summit trail".split()
CITIES = [("Portland", "OR", "97201"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108"), ("Denver", "CO", "80202")]


def order(i: int, rng: random.Random) -> dict:
    created = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i * 97)
    city, province, zip_code = rng.choice(CITIES)
    lines = []
    for n in range(rng.choice((1, 2, 2, 3))):
        word = rng.choice(WORDS)
        lines.append({"id": f"gid://shopify/LineItem/{i * 10 + n}", "sku": f"SKU-{word[:3].upper()}-{n}",
                      "title": f"{word.title()} tee", "quantity": rng.randint(1, 4),
                      "originalUnitPriceSet": {"amount": f"{rng.randint(500, 9000) / 100:.2f}", "currencyCode": "USD"}})
    return {
        "id": f"gid://shopify/Order/{1000000 + i}", "name": f"#{1000 + i}", "email": f"buyer{i % 5000}@example.com",
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": (created + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "financialStatus": rng.choice(("PAID", "PAID", "PENDING", "REFUNDED")),
        "totalPrice": round(rng.uniform(5, 400), 2), "itemCount": len(lines), "test": False,
        "tags": rng.sample(WORDS, 2),
        "customer": {"id": f"gid://shopify/Customer/{i % 5000}", "email": f"buyer{i % 5000}@example.com",
                     "firstName": "Ada", "lastName": f"Buyer {i % 5000}"},
        "shippingAddress": {"address1": f"{i % 900} Main St", "city": city, "province": province, "zip": zip_code,
                            "countryCode": "US"},
        "totalTaxSet": {"amount": f"{rng.randint(0, 3000) / 100:.2f}", "currencyCode": "USD"},
        "lineItems": lines,
        "discountApplications": [{"code": "WELCOME10", "value": 10.0}] if i % 7 == 0 else [],
    }


def write_messages(path: Path, count: int) -> dict:
    """Singer messages for `count` orders; returns what a correct load must hold."""
    rng = random.Random(8)
    quantity = 0
    ids = hashlib.md5()
    with path.open("w") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": STREAM, "schema": ORDER_SCHEMA, "key_properties": ["id"]}) + "\n")
        for i in range(count):
            rec = order(i, rng)
            quantity += sum(line["quantity"] for line in rec["lineItems"])
            out.write(json.dumps({"type": "RECORD", "stream": STREAM, "record": rec,
                                  "time_extracted": "2026-11-25T00:00:00+00:00"}, separators=(",", ":")) + "\n")
        out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {STREAM: {"done": count}}}}) + "\n")
    return {"rows": count, "line_item_quantity": quantity}


# -- the warehouse ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Warehouse:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, "WAREHOUSE_DIR": str(folder), "WAREHOUSE_PORT": str(self.port)}
        self.conninfo = dict(host="127.0.0.1", port=self.port, user="tributary", password="tributary-dev",
                             dbname="warehouse")

    def start(self) -> None:
        subprocess.run([sys.executable, str(ROOT / "load" / "warehouse.py"), "start"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run([sys.executable, str(ROOT / "load" / "warehouse.py"), "stop"], env=self.env,
                       stdout=subprocess.DEVNULL)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(**self.conninfo, autocommit=True)

    def reset(self) -> None:
        with self.connect() as conn:
            conn.execute(f"drop schema if exists {SCHEMA_NAME} cascade")
            conn.execute("checkpoint")

    def check(self, expected: dict, table: str = STREAM) -> dict:
        """Rows, distinct keys and the sum of every nested line item's quantity, whatever the landed type."""
        with self.connect() as conn:
            rows, keys = conn.execute(f'select count(*), count(distinct id) from {SCHEMA_NAME}."{table}"').fetchone()
            kind = conn.execute(
                "select format_type(atttypid, atttypmod) from pg_attribute "
                "where attrelid = %s::regclass and attname = 'lineItems'", (f'{SCHEMA_NAME}."{table}"',)).fetchone()[0]
            elements = 'unnest(o."lineItems")' if kind.endswith("[]") else 'jsonb_array_elements(o."lineItems")'
            quantity = conn.execute(
                f"select coalesce(sum((item ->> 'quantity')::int), 0) from {SCHEMA_NAME}.\"{table}\" o "
                f"cross join lateral {elements} as item").fetchone()[0]
        got = {"rows": rows, "distinct_keys": keys, "line_item_quantity": quantity, "lineItems_type": kind}
        got["ok"] = rows == expected["rows"] == keys and quantity == expected["line_item_quantity"]
        return got
