"""The /_sandbox/quickbooks/ hooks tests and the demo drive:

    GET|POST throttle              Intuit's per-realm limits: {"enabled", "per_second", "per_minute",
                                   "batch_per_minute"} (off unless turned on here)
    POST     mutate                {"seed", "new", "updated", "deleted"}: changes between runs
    POST     edit                  {"entity", "rows", "ids"?}: a user's edits in QuickBooks' UI
    POST     revoke                every token dies (the app was disconnected)
    GET      tokens                the current refresh token and the app's credentials
    POST     tokens/age            {"days"}: every token that much older, the data clock unmoved
    POST     tokens/access-ttl     {"seconds"}: access tokens issued from now on live that long
    GET      truth                 counts, totals, open A/R, P&L by month
    GET      truth/rows            every live row's Id, SyncToken, TotalAmt, LastUpdatedTime; deleted Ids
    GET      truth/invoice-lines   each live invoice's item lines, a bundle's components in its place:
                                   {Id: [{"item", "qty", "amount", "bundle"}]} (bundle: the Group item, or null)
    GET      truth/profit-and-loss the daily P&L as the report serves it
    GET      truth/balance-sheet   each month's balance sheet from the world's start to today, from the
                                   ledger: {"YYYY-MM": {"as_of", "accounts": {Id: balance}, "total_assets",
                                   "total_liabilities_and_equity", "net_income", "retained_earnings"}}
Under /instances/<name>/ each hook is that company's.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from aiohttp import web

from ...world import cents
from . import NAME
from .api import fmt_money, monthly_pl_totals, profit_and_loss
from .auth import ACCESS_TOKEN_TTL, CLIENT_ID, CLIENT_SECRET
from .data import (ENTITIES, HOME_CURRENCY, bundled_lines, fiscal_year_start, item_lines, local_date, month_end,
                   recompute_balances, ref, sales_lines, to_cents, txn_tax_detail)

if TYPE_CHECKING:
    from . import Simulator


def mutate(simulator: "Simulator", seed=0, new=0, updated=0, deleted=0) -> list[dict]:
    """Changes between runs, on RECENT documents only (last 30 days) so a re-pulled
    30-day P&L window sees them. Customers are never deleted (QBO only deactivates them)."""
    simulator.mutations += 1
    r = random.Random(f"mutate:{seed}:{simulator.mutations}")
    b = simulator.books
    now = simulator.clock.now()
    today = local_date(now)
    cutoff = (today - dt.timedelta(days=30)).isoformat()
    changes: list[dict] = []
    # home-currency customers and invoices only: a new invoice here is in dollars, and an edited
    # one keeps no home-currency amounts up to date (a euro invoice's HomeTotalAmt)
    home_currency = lambda rec: rec["CurrencyRef"]["value"] == HOME_CURRENCY[0]  # noqa: E731
    customers = sorted((c for c in b.rows["Customer"].values() if c["Active"] and home_currency(c)),
                       key=lambda c: int(c["Id"]))
    items = sorted((i for i in b.rows["Item"].values() if i["Active"] and i["Type"] in ("Service", "Inventory")
                    and to_cents(i["UnitPrice"]) > 0), key=lambda i: int(i["Id"]))
    for k in range(new):
        if k % 3 == 2:     # every third new invoice goes to a brand-new customer
            cid = b.next_id("Customer")
            name = f"New Customer {cid} LLC"
            cust = b.put("Customer", {"Id": cid, "DisplayName": name, "FullyQualifiedName": name, "CompanyName": name,
                                      "PrintOnCheckName": name, "Active": True, "Job": False, "BillWithParent": False,
                                      "Taxable": False, "Balance": 0, "BalanceWithJobs": 0,
                                      "CurrencyRef": ref("USD", "United States Dollar"), "CustomerTypeRef": {"value": "1"},
                                      "PrimaryEmailAddr": {"Address": f"billing@newcustomer{cid}.com"},
                                      "WebAddr": {"URI": f"https://www.newcustomer{cid}.com"}}, now)
            changes.append({"entity": "Customer", "Id": cid, "kind": "new"})
        else:
            cust = customers[r.randrange(len(customers))]
        iid = b.next_id("Invoice")
        picks = [(it["Id"], r.randint(1, 5), to_cents(it["UnitPrice"])) for it in r.sample(items, 2)]
        lines, sub = sales_lines(b, picks)
        b.put("Invoice", {"Id": iid, "DocNumber": f"INV-{int(iid) + 1000}", "TxnDate": today.isoformat(),
                          "DueDate": (today + dt.timedelta(days=30)).isoformat(),
                          "CustomerRef": ref(cust["Id"], cust["DisplayName"]), "SalesTermRef": ref("2"), "Line": lines,
                          "TxnTaxDetail": {"TotalTax": 0}, "TotalAmt": cents(sub), "Balance": cents(sub),
                          "HomeBalance": cents(sub), "CurrencyRef": ref("USD", "United States Dollar"), "LinkedTxn": [],
                          "EmailStatus": "NotSet", "PrintStatus": "NotSet", "GlobalTaxCalculation": "TaxExcluded"}, now)
        changes.append({"entity": "Invoice", "Id": iid, "kind": "new"})
    recent = sorted((i for i in b.rows["Invoice"].values() if i["TxnDate"] >= cutoff and home_currency(i)),
                    key=lambda i: int(i["Id"]))
    for inv in r.sample(recent, min(updated, len(recent))):
        # Add one line (amounts only grow, so payments never exceed the total).
        it = items[r.randrange(len(items))]
        spec = [(ln["SalesItemLineDetail"]["ItemRef"]["value"], ln["SalesItemLineDetail"]["Qty"],
                 to_cents(ln["SalesItemLineDetail"]["UnitPrice"]))
                for ln in item_lines(inv["Line"])]
        spec.append((it["Id"], r.randint(1, 3), to_cents(it["UnitPrice"])))
        lines, sub = sales_lines(b, spec, bundled=bundled_lines(inv["Line"]))
        tax_detail = inv["TxnTaxDetail"]
        tax = to_cents(tax_detail.get("TotalTax", 0))
        if tax:   # keep the invoice's tax rate on its taxable (inventory) lines
            taxable = sum(q * u for i_, q, u in spec if b.rows["Item"][i_]["Type"] == "Inventory")
            tax = (taxable * 825 + 5000) // 10000
            tax_detail = txn_tax_detail(tax, "2", "1", 8.25, taxable)
        paid = to_cents(inv["TotalAmt"]) - to_cents(inv["Balance"])
        inv.update(Line=lines, TxnTaxDetail=tax_detail, TotalAmt=cents(sub + tax),
                   Balance=cents(sub + tax - paid), HomeBalance=cents(sub + tax - paid))
        b.touch("Invoice", inv, now)
        changes.append({"entity": "Invoice", "Id": inv["Id"], "kind": "updated"})
    for cust in r.sample(customers, min((updated + 1) // 2, len(customers))):
        cust["PrimaryPhone"] = {"FreeFormNumber": f"(415) 555-{r.randrange(10000):04d}"}
        b.touch("Customer", cust, now)
        changes.append({"entity": "Customer", "Id": cust["Id"], "kind": "updated"})
    touched = {c["Id"] for c in changes if c["entity"] == "Invoice"}
    deletable = [i for i in recent if not i["LinkedTxn"] and i["Id"] not in touched and i["Id"] in b.rows["Invoice"]]
    for inv in r.sample(deletable, min(deleted, len(deletable))):
        b.delete("Invoice", inv["Id"], now)
        changes.append({"entity": "Invoice", "Id": inv["Id"], "kind": "deleted"})
    recompute_balances(b)
    return changes


def edit(simulator: "Simulator", entity: str, changes: list[dict], ids: list | None = None) -> list[str]:
    """A user's edits in QuickBooks' UI (POST edit below says how): the Ids of the rows edited."""
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {', '.join(ENTITIES)}, not {entity!r}")
    rows = simulator.books.rows[entity]
    targets = [str(i) for i in ids] if ids else sorted(rows, key=int)[:len(changes)]
    if len(targets) < len(changes) or any(i not in rows for i in targets):
        raise ValueError(f"{entity} has no rows {targets} for {len(changes)} changes")
    protected = {"Id", "SyncToken", "MetaData", "domain", "sparse"}
    if any(not isinstance(change, dict) or protected & change.keys() for change in changes):
        raise ValueError(f"each change must be an object of properties other than {sorted(protected)}")
    now = simulator.clock.now()
    for rec_id, change in zip(targets, changes):
        rec = rows[rec_id]
        for key, value in change.items():
            if value is None:
                rec.pop(key, None)
            else:
                rec[key] = value
        simulator.books.touch(entity, rec, now)
    return targets[:len(changes)]


def truth(simulator: "Simulator") -> dict:
    """What a complete copy of the books adds up to: counts, totals, open A/R, P&L by month."""
    b = simulator.books
    counts = {e: len(b.rows[e]) for e in ENTITIES}
    totals = {e: cents(sum(to_cents(r["TotalAmt"]) for r in b.rows[e].values()))
              for e in ENTITIES if any("TotalAmt" in r for r in b.rows[e].values())}
    return {"counts": counts, "active_counts": {e: sum(1 for r in b.rows[e].values() if r.get("Active", True)) for e in ENTITIES},
            "deleted": {e: sorted(b.deleted[e], key=int) for e in ENTITIES if b.deleted[e]},
            "totals": totals, "invoices_total": totals.get("Invoice", 0),
            "open_ar": cents(sum(to_cents(r["Balance"]) for r in b.rows["Invoice"].values())),
            "pl_by_month": monthly_pl_totals(b), "cash_basis_pl_by_month": monthly_pl_totals(b, b.cash_ledger())}


def balance_sheet_truth(simulator: "Simulator") -> dict:
    """Each month's balance sheet from the ledger, worked out here (not by the report's code), from
    the world's first month to today's: as of the month's last day, or today for the current one.
    Every balance-sheet account (by its Classification) has its balance in natural sign (assets,
    liabilities and equity each positive when normal); the Retained Earnings account's holds, as
    the report's row does, the profit of every fiscal year before the as-of day's (the company's
    fiscal years: Simulator.fiscal_year_start_month); net_income is the fiscal year to date, as
    the report's Net Income row."""
    b = simulator.books
    today = local_date(simulator.clock.now())
    classification = {aid: a["Classification"] for aid, a in b.rows["Account"].items()}
    on_balance_sheet = sorted((aid for aid, kind in classification.items() if kind in ("Asset", "Liability", "Equity")),
                              key=int)
    retained_id = next(aid for aid, a in b.rows["Account"].items() if a["AccountSubType"] == "RetainedEarnings")
    debits: dict[str, int] = {}            # balance-sheet accounts, debit cents
    profit_by_year: dict[dt.date, int] = {}    # income less expenses by fiscal year (its first day), cents
    days = sorted(b.ledger().items())
    posted = 0
    out: dict[str, dict] = {}
    month = simulator.world.start.replace(day=1)
    while month <= today:
        as_of = min(month_end(month.year, month.month), today)
        while posted < len(days) and days[posted][0] <= as_of.isoformat():
            day, accounts = days[posted]
            for aid, debit in accounts.items():
                if aid in on_balance_sheet:
                    debits[aid] = debits.get(aid, 0) + debit
                else:
                    year = fiscal_year_start(dt.date.fromisoformat(day), simulator.fiscal_year_start_month)
                    profit_by_year[year] = profit_by_year.get(year, 0) - debit
            posted += 1
        this_year = fiscal_year_start(as_of, simulator.fiscal_year_start_month)
        net_income = profit_by_year.get(this_year, 0)
        earlier_years = sum(v for year, v in profit_by_year.items() if year < this_year)
        natural = {aid: debits.get(aid, 0) * (1 if classification[aid] == "Asset" else -1) for aid in on_balance_sheet}
        natural[retained_id] += earlier_years
        total_assets = sum(v for aid, v in natural.items() if classification[aid] == "Asset")
        out[f"{month:%Y-%m}"] = {
            "as_of": as_of.isoformat(),
            "accounts": {aid: fmt_money(v) for aid, v in natural.items()},
            "total_assets": fmt_money(total_assets),
            "total_liabilities_and_equity": fmt_money(sum(v for aid, v in natural.items()
                                                          if classification[aid] != "Asset") + net_income),
            "net_income": fmt_money(net_income),
            "retained_earnings": fmt_money(natural[retained_id])}
        month = month_end(month.year, month.month) + dt.timedelta(days=1)
    return out


def add_routes(app: web.Application, simulator: "Simulator") -> None:
    async def ctl_throttle(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await request.json() if request.can_read_body else {}
            return web.json_response(simulator.throttle.configure(**{k: body[k] for k in
                                                                     ("enabled", "per_second", "per_minute", "batch_per_minute") if k in body}))
        return web.json_response(simulator.throttle.settings())

    async def ctl_revoke(request: web.Request) -> web.Response:
        simulator.tokens.revoke()
        return web.json_response({"revoked": True})

    async def ctl_tokens(request: web.Request) -> web.Response:
        return web.json_response({"refresh_token": simulator.tokens.current_refresh(), "client_id": CLIENT_ID,
                                  "client_secret": CLIENT_SECRET, "realm_id": simulator.realm_id})

    async def ctl_age_tokens(request: web.Request) -> web.Response:
        """Make every token `days` older while the data clock stays put: days of token rotation
        pass in seconds, and the rest of the API (30-day CDC window, reports) sees no jump."""
        body = await request.json() if request.can_read_body else {}
        simulator.tokens.age(dt.timedelta(days=float(body.get("days", 1))))
        return web.json_response({"refresh_token": simulator.tokens.current_refresh()})

    async def ctl_access_ttl(request: web.Request) -> web.Response:
        """{"seconds": n}: access tokens issued from now on live n seconds (and say so in
        expires_in), so Intuit's one-hour expiry can fall in the middle of a short run."""
        body = await request.json() if request.can_read_body else {}
        simulator.tokens.access_ttl = int(body.get("seconds", ACCESS_TOKEN_TTL))
        return web.json_response({"access_ttl": simulator.tokens.access_ttl})

    async def ctl_truth(request: web.Request) -> web.Response:
        return web.json_response(truth(simulator))

    async def ctl_truth_rows(request: web.Request) -> web.Response:
        """Every live row's identity and version, per entity: what a complete, current copy holds."""
        rows = {e: [{"Id": r["Id"], "SyncToken": r["SyncToken"], "TotalAmt": r.get("TotalAmt"),
                     "LastUpdatedTime": r["MetaData"]["LastUpdatedTime"]} for r in simulator.books.rows[e].values()]
                for e in ENTITIES}
        return web.json_response({"rows": rows, "deleted": {e: sorted(simulator.books.deleted[e], key=int) for e in ENTITIES}})

    async def ctl_truth_invoice_lines(request: web.Request) -> web.Response:
        out = {}
        for inv in simulator.books.rows["Invoice"].values():
            out[inv["Id"]] = [{"item": part["SalesItemLineDetail"]["ItemRef"]["value"], "qty": part["SalesItemLineDetail"]["Qty"],
                               "amount": part["Amount"], "bundle": bundle}
                              for line in inv["Line"]
                              for bundle in [line["GroupLineDetail"]["GroupItemRef"]["value"]
                                             if line["DetailType"] == "GroupLineDetail" else None]
                              for part in item_lines([line])]
        return web.json_response(out)

    async def ctl_truth_profit_and_loss(request: web.Request) -> web.Response:
        """?start_date&end_date (company dates, default: the last 30 days): the daily P&L exactly as
        GET /reports/ProfitAndLoss?summarize_column_by=Days serves it, one entry per day:
        {"YYYY-MM-DD": {row label: amount text}} with the blank cells (no activity) left out."""
        today = local_date(simulator.clock.now())
        try:
            start = dt.date.fromisoformat(request.query.get("start_date", (today - dt.timedelta(days=30)).isoformat()))
            end = dt.date.fromisoformat(request.query.get("end_date", today.isoformat()))
        except ValueError:
            return web.json_response({"error": "start_date/end_date must be YYYY-MM-DD"}, status=400)
        report = profit_and_loss(simulator.books, start, end, "Days", simulator.clock.now())
        days = [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        out: dict[str, dict[str, str]] = {d: {} for d in days}

        def walk(rows: list) -> None:
            for row in rows:
                for part in ("Header", "Summary"):
                    if part in row:
                        take(row[part]["ColData"])
                if "ColData" in row:
                    take(row["ColData"])
                walk(row.get("Rows", {}).get("Row", []))

        def take(cells: list) -> None:
            label = cells[0]["value"]
            for day, cell in zip(days, cells[1:]):   # the last cell is the period's total
                if cell["value"] != "":
                    out[day][label] = cell["value"]

        walk(report["Rows"]["Row"])
        return web.json_response(out)

    async def ctl_truth_balance_sheet(request: web.Request) -> web.Response:
        return web.json_response(balance_sheet_truth(simulator))

    async def ctl_edit(request: web.Request) -> web.Response:
        """{"entity": "Customer", "rows": [{property: value, ...}, ...], "ids"?: [...]}: the i-th
        change goes to the i-th row (by Id, or the entity's first rows in Id order), which is then
        saved the way a user's edit is (SyncToken + 1, LastUpdatedTime now). A null value removes
        the property, as QBO leaves empty properties out of its answers. For what a user can change
        in QuickBooks' UI between two syncs: texts (unicode, long), custom fields (a new one, or one
        whose definition was retyped), a property emptied."""
        body = await request.json() if request.can_read_body else {}
        try:
            return web.json_response({"edited": edit(simulator, str(body.get("entity", "")), list(body.get("rows", [])),
                                                     body.get("ids"))})
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)

    async def ctl_mutate(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        try:
            changes = mutate(simulator, int(body.get("seed", 0)), int(body.get("new", 0)),
                             int(body.get("updated", 0)), int(body.get("deleted", 0)))
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response({"changes": changes})

    base = f"/_sandbox/{NAME}"
    app.add_routes([web.post(base + "/throttle", ctl_throttle), web.get(base + "/throttle", ctl_throttle),
                    web.post(base + "/mutate", ctl_mutate), web.post(base + "/revoke", ctl_revoke),
                    web.post(base + "/edit", ctl_edit),
                    web.get(base + "/truth", ctl_truth), web.get(base + "/truth/rows", ctl_truth_rows),
                    web.get(base + "/truth/invoice-lines", ctl_truth_invoice_lines),
                    web.get(base + "/truth/profit-and-loss", ctl_truth_profit_and_loss),
                    web.get(base + "/truth/balance-sheet", ctl_truth_balance_sheet),
                    web.get(base + "/tokens", ctl_tokens),
                    web.post(base + "/tokens/age", ctl_age_tokens),
                    web.post(base + "/tokens/access-ttl", ctl_access_ttl)])
