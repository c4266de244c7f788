"""End-to-end smoke: the UNMODIFIED community tap-quickbooks 2.5.0 against the sandbox.

Uses the tap from the Meltano plugin venv that `make install` builds (the tap pins old
requests/jsonschema, so it lives in its own venv); TAP_QUICKBOOKS_BIN points elsewhere.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

from tributary_sandbox.vendors import quickbooks as q

PLUGIN_VENV_TAP = Path(__file__).resolve().parents[2] / ".meltano/extractors/tap-quickbooks/venv/bin/tap-quickbooks"
TAP = Path(os.environ.get("TAP_QUICKBOOKS_BIN", str(PLUGIN_VENV_TAP)))

STREAM_ENTITY = {"accounts": "Account", "bill_payments": "BillPayment", "bills": "Bill", "budgets": "Budget",
                 "classes": "Class", "credit_memos": "CreditMemo", "customers": "Customer",
                 "customer_types": "CustomerType", "departments": "Department", "deposits": "Deposit",
                 "employees": "Employee", "estimates": "Estimate", "invoices": "Invoice", "items": "Item",
                 "journal_entries": "JournalEntry", "payment_methods": "PaymentMethod", "payments": "Payment",
                 "purchase_orders": "PurchaseOrder", "purchases": "Purchase", "refund_receipts": "RefundReceipt",
                 "sales_receipts": "SalesReceipt", "tax_agencies": "TaxAgency", "tax_codes": "TaxCode",
                 "tax_rates": "TaxRate", "terms": "Term", "time_activities": "TimeActivity", "transfers": "Transfer",
                 "vendor_credits": "VendorCredit", "vendors": "Vendor"}


def _catalog(path: Path, selected: set[str]) -> None:
    code = "from tap_quickbooks.discover import do_discover; import json; print(json.dumps(do_discover().to_dict()))"
    cat = json.loads(subprocess.run([str(TAP.parent / "python"), "-c", code], capture_output=True, text=True, check=True).stdout)
    for s in cat["streams"]:
        for m in s["metadata"]:
            if list(m["breadcrumb"]) == []:
                m["metadata"]["selected"] = s["tap_stream_id"] in selected
    path.write_text(json.dumps(cat))


def _run_tap(sim, workdir: Path, selected: set[str], state: dict | None = None) -> tuple[collections.Counter, list]:
    _catalog(workdir / "catalog.json", selected)
    cmd = [str(TAP), "--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        cmd += ["--state", str(workdir / "state.json")]
    env = {**os.environ, "HTTPS_PROXY": sim.proxy_url, "REQUESTS_CA_BUNDLE": sim.ca}
    env.pop("CURL_CA_BUNDLE", None)
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    counts: collections.Counter = collections.Counter()
    records = []
    for line in res.stdout.splitlines():
        msg = json.loads(line)
        if msg["type"] == "RECORD":
            counts[msg["stream"]] += 1
            records.append(msg)
    return counts, records


def test_real_tap_syncs_every_stream(sim, tmp_path):
    cfg = {"start_date": "2024-01-01T00:00:00Z", "user_agent": "tributary", "realm_id": q.REALM_ID,
           "client_id": q.CLIENT_ID, "client_secret": q.CLIENT_SECRET, "refresh_token": q.INITIAL_REFRESH_TOKEN}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    truth = sim.ctl("GET", "/_sandbox/quickbooks/truth")

    # Run 1: every entity stream and the P&L (deleted_objects needs a recent bookmark, run 3).
    counts, records = _run_tap(sim, tmp_path, set(STREAM_ENTITY) | {"profit_loss_report"})
    for stream, entity in STREAM_ENTITY.items():
        assert counts[stream] == truth["counts"][entity], stream
    days = (dt.date.today() - dt.date(2024, 1, 1)).days + 1
    assert counts["profit_loss_report"] == days
    pl = {r["record"]["ReportDate"][:10]: r["record"]["Details"] for r in records if r["stream"] == "profit_loss_report"}
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")   # last full month
    net = sum(float(d["Net Income"]) for day, d in pl.items() if day.startswith(month))
    assert round(net, 2) == truth["pl_by_month"][month]["net_income"]

    # Run 2, a day later (sandbox clock): the refresh token rotates and the tap writes it back.
    sim.ctl("POST", "/_sandbox/clock", {"advance_days": 1})
    _run_tap(sim, tmp_path, {"terms"})
    written = json.loads((tmp_path / "config.json").read_text())["refresh_token"]
    assert written != q.INITIAL_REFRESH_TOKEN
    assert written == sim.ctl("GET", "/_sandbox/quickbooks/tokens")["refresh_token"]

    # Run 3: deletions reach the tap through CDC when the bookmark is within 30 days.
    changes = sim.ctl("POST", "/_sandbox/quickbooks/mutate", {"seed": 3, "new": 2, "updated": 2, "deleted": 2})["changes"]
    sandbox_now = dt.datetime.fromisoformat(sim.ctl("GET", "/_sandbox/health")["sandbox_now"])   # the clock moved
    since = (sandbox_now - dt.timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")
    counts, records = _run_tap(sim, tmp_path, {"deleted_objects", "invoices"},
                               state={"bookmarks": {"deleted_objects": {"LastUpdatedTime": since},
                                                    "invoices": {"LastUpdatedTime": since}}})
    deleted = {(r["record"]["Type"], r["record"]["Id"]) for r in records if r["stream"] == "deleted_objects"}
    assert deleted == {(c["entity"], c["Id"]) for c in changes if c["kind"] == "deleted"}
    got_invoices = {r["record"]["Id"] for r in records if r["stream"] == "invoices"}
    assert {c["Id"] for c in changes if c["entity"] == "Invoice" and c["kind"] != "deleted"} <= got_invoices
