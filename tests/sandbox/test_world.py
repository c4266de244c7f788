"""The world generator: deterministic, messy in the right ways, fast at scale."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from tributary_sandbox.vendors.quickbooks import data as q
from tributary_sandbox.world import build_world

TODAY = dt.date(2025, 6, 1)


def test_same_seed_same_world_and_books():
    a, b = build_world(42, 1.0, TODAY), build_world(42, 1.0, TODAY)
    assert json.dumps(a.truth(), sort_keys=True) == json.dumps(b.truth(), sort_keys=True)
    assert json.dumps(q.project(a).rows, sort_keys=True) == json.dumps(q.project(b).rows, sort_keys=True)
    assert json.dumps(build_world(43, 1.0, TODAY).truth()) != json.dumps(a.truth())


def test_truth_is_the_same_in_another_process():
    code = ("import json,datetime as d; from tributary_sandbox.world import build_world; "
            "print(json.dumps(build_world(42, 1.0, d.date(2025, 6, 1)).truth(), sort_keys=True))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)}
    assert len(outs) == 1


def test_demo_size_and_mess():
    w = build_world(42, 1.0, TODAY)
    t = w.truth()
    c = t["counts"]
    assert c["companies"] == 150 and c["people"] == 600 and c["invoices"] == 1500
    assert c["shop_orders"] == 3000 and c["deals"] == 300
    assert all(w.start <= o.at.date() < TODAY for o in w.orders)
    assert t["quickbooks_duplicate_customers"] and t["renamed_companies"]
    shop_emails = [p.emails["shopify"] for p in w.people]
    assert any("+shop@" in e for e in shop_emails)
    assert any(p.emails["quickbooks"] != p.email and p.emails["quickbooks"].lower() == p.email for p in w.people)
    assert any(c.domains["quickbooks"] != c.domain for c in w.companies)
    # QuickBooks' dollar invoice totals and open A/R agree with the world's (the euro invoices are
    # the company's own, beside the world's: quickbooks.data.project_foreign_currency)
    books = q.project(w)
    dollars = [i for i in books.rows["Invoice"].values() if i["CurrencyRef"]["value"] == "USD"]
    assert len(dollars) == c["invoices"] < len(books.rows["Invoice"])
    assert sum(q.to_cents(i["TotalAmt"]) for i in dollars) == round(sum(t["invoice_totals_by_month"].values()) * 100)
    assert sum(q.to_cents(i["Balance"]) for i in dollars) == round(t["open_ar"] * 100)


def test_the_mess_real_businesses_make_is_there_and_switched_off_by_default():
    plain, messy = build_world(42, 1.0, TODAY), build_world(42, 1.0, TODAY, "realistic")
    assert plain.truth()["mess"] == "none" and messy.truth()["mess"] == "realistic"
    assert not any(p.phones or p.only_in or p.unnamed_in for p in plain.people)
    # customers in one system only: the books' walk-in clients and shop-only buyers, not in the CRM
    alone = [p for p in messy.people if p.only_in]
    assert {p.only_in for p in alone} == {"quickbooks", "shopify"}
    truth = messy.truth()["customers"]
    assert all(not truth[p.uid]["attio_person_ids"] for p in alone)
    books_only = [p for p in alone if p.only_in == "quickbooks"]
    assert all(truth[p.uid]["quickbooks_customer_ids"] and not truth[p.uid]["shopify_customer_ids"] for p in books_only)
    # what people type: provider domains, fields with several addresses or a display name, URLs, phones
    assert any(p.emails["shopify"] and p.emails["shopify"].endswith(("@me.com", "@mac.com", "@pm.me", "@protonmail.com"))
               for p in messy.people)
    emails = [q.email for q in messy.qbo_customers if q.email]
    assert any("<" in e for e in emails) and any("," in e or ";" in e for e in emails)
    assert any(q.web and q.web.startswith("HTTP://WWW.") for q in messy.qbo_customers)
    phones = [q.phone for q in messy.qbo_customers if q.phone]
    assert any(ph.startswith(("0", "(")) for ph in phones) and any(ph.startswith(("+", "00")) for ph in phones)
    assert any(p.phones and p.emails["shopify"] is None for p in messy.people)   # phone-only checkouts
    heavy = build_world(42, 1.0, TODAY, "heavy")
    assert sum(bool(p.phones) for p in heavy.people) > sum(bool(p.phones) for p in messy.people)


def test_large_scale_builds():
    # ~130k records; 1M (scale ≈ 170) takes ~10 s on a 2-core machine. Not a timed assert.
    w = build_world(7, 20.0, TODAY)
    assert len(w.orders) == 60_000 and len(w.invoices) == 30_000 and len(w.people) == 12_000


def test_cli_truth_and_port_in_use(tmp_path):
    out = tmp_path / "truth.json"
    subprocess.run([sys.executable, "-m", "tributary_sandbox", "truth", "--seed", "42", "--today", "2025-06-01",
                    "--state-dir", str(tmp_path / "state"), "--out", str(out)], check=True, capture_output=True)
    assert json.loads(out.read_text())["counts"]["invoices"] == 1500
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = subprocess.run([sys.executable, "-m", "tributary_sandbox", "serve", "--state-dir", str(tmp_path),
                              "--port", str(port), "--proxy-port", "0"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 2
    assert "already in use by another program" in res.stderr and "export SANDBOX_PORT=" in res.stderr
    assert "Traceback" not in res.stderr
    st = subprocess.run([sys.executable, "-m", "tributary_sandbox", "status", "--port", str(port)], capture_output=True, text=True)
    assert st.returncode == 1 and "not running" in st.stdout


def test_a_restart_serves_the_recorded_world_and_another_is_refused(tmp_path):
    """`SANDBOX_SEED=1234 make demo`, `make stop`, later `make sandbox-start` with no variable: the
    same world again, not the default one; asking for another over it names `make demo-reset`."""
    import os
    import socket
    import urllib.request

    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        port, proxy_port = a.getsockname()[1], b.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    env.update(SANDBOX_STATE_DIR=str(tmp_path / "state"), SANDBOX_PORT=str(port), SANDBOX_PROXY_PORT=str(proxy_port))

    def cli(action: str, **variables: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tributary_sandbox", action], env={**env, **variables},
                              capture_output=True, text=True, timeout=120)

    def served() -> tuple[dict, list]:
        def get(path):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
                return json.load(response)
        return get("/_sandbox/health"), get("/_sandbox/quickbooks/truth/rows")

    try:
        assert cli("start", SANDBOX_SEED="1234", SANDBOX_SCALE="0.05", SANDBOX_MESS="realistic").returncode == 0
        health, first_rows = served()
        assert (health["seed"], health["scale"], health["mess"]) == (1234, 0.05, "realistic")
        assert cli("stop").returncode == 0

        again = cli("start")  # no variable: the recorded world, not seed 42 at scale 1
        assert again.returncode == 0, again.stderr
        health, rows = served()
        assert (health["seed"], health["scale"], health["mess"]) == (1234, 0.05, "realistic") and rows == first_rows
        assert cli("stop").returncode == 0

        for variables, named in (({"SANDBOX_SEED": "42"}, "SANDBOX_SEED"), ({"SANDBOX_SCALE": "1"}, "SANDBOX_SCALE"),
                                 ({"SANDBOX_SOURCE_SCALES": "ga4=2"}, "SANDBOX_SOURCE_SCALES"),
                                 ({"SANDBOX_MESS": "none"}, "SANDBOX_MESS")):
            refused = cli("start", **variables)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert named in refused.stderr and "make demo-reset" in refused.stderr and "seed 1234" in refused.stderr
            assert "Traceback" not in refused.stderr
            assert cli("status").returncode == 1  # nothing was started
        # asking for the recorded world itself is no conflict
        assert cli("start", SANDBOX_SEED="1234", SANDBOX_SCALE="0.05").returncode == 0
    finally:
        cli("stop")

    # `truth` serves nothing: it writes the recorded world's truth, or the one its flags ask for
    def truth(*flags: str) -> dict:
        written = subprocess.run([sys.executable, "-m", "tributary_sandbox", "truth", *flags], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert written.returncode == 0, written.stderr
        return json.loads(written.stdout)
    today = json.loads((tmp_path / "state" / "world.json").read_text())["today"]
    assert truth() == truth("--seed", "1234", "--scale", "0.05")
    assert truth("--seed", "42", "--scale", "0.05") != truth()
    assert truth("--seed", "42", "--scale", "0.05")["counts"] == \
        truth("--seed", "42", "--scale", "0.05", "--mess", "realistic", "--state-dir", str(tmp_path / "none"),
              "--today", today)["counts"]


def test_a_taken_port_is_never_moved_onto_the_sandboxs_other_port(tmp_path):
    import socket
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        # the proxy is configured two above the taken port: where the advice would look first
        res = subprocess.run([sys.executable, "-m", "tributary_sandbox", "serve", "--state-dir", str(tmp_path),
                              "--port", str(port), "--proxy-port", str(port + 2)], capture_output=True, text=True,
                             timeout=30)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    advised = int(res.stderr.split("export SANDBOX_PORT=")[1].split()[0])
    assert advised not in (port, port + 2), res.stderr
