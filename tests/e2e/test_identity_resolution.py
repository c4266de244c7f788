"""Identity resolution end to end: QuickBooks, Attio and Shopify loaded from the sandbox, the
identity models and customer_360 built by dbt through Meltano, and the unification held
against the sandbox's ground truth (which source records are one customer), after the whole
pipeline has run as `make demo` runs it.

Scored on pairs of source records: a pair is predicted when the warehouse puts both records in
one unified customer, true when the truth does. precision = correct / predicted pairs,
recall = correct / true pairs (tributary_sandbox.scoring).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from tributary_sandbox.scoring import score_unification, truth_records

from this_worker import BIN

THRESHOLD = 0.99


@pytest.fixture(scope="module")
def resolved(stack):
    stack.reset()
    # The whole pipeline, as `make demo` runs it: every source's job, then the cross-source one.
    full = stack.meltano("run", "quickbooks", "attio", "ga4", "shopify", "cross-source")
    assert full.ok, full.output[-3000:]
    return stack.sandbox("GET", "/_sandbox/truth")["customers"]


def test_every_source_record_has_one_unified_customer(stack, resolved):
    truth = truth_records(resolved)
    rows = stack.sql("select source_system, source_object, source_id from intermediate.int_identity__customer_map")
    mapped = [tuple(row) for row in rows]
    assert len(mapped) == len(set(mapped)), "a source record is mapped twice"
    missing = set(truth) - set(mapped)
    assert not missing, f"{len(missing)} records of the truth are not mapped, e.g. {sorted(missing)[:5]}"


def test_unification_precision_and_recall(stack, resolved):
    predicted = {(s, o, i): uid for s, o, i, uid in stack.sql(
        "select source_system, source_object, source_id, unified_customer_id from intermediate.int_identity__customer_map")}
    score = score_unification(resolved, predicted)
    print(f"\nidentity resolution: {score['records']} records, {score['true_pairs']} true pairs, "
          f"{score['predicted_pairs']} predicted, {score['correct_pairs']} correct: "
          f"precision {score['precision']:.4f}, recall {score['recall']:.4f}")
    assert score["precision"] >= THRESHOLD, f"precision {score['precision']:.4f}; wrongly merged e.g. {score['wrongly_merged']}"
    assert score["recall"] >= THRESHOLD, f"recall {score['recall']:.4f}; missed e.g. {score['missed']}"


def test_customer_kinds_match_the_truth(stack, resolved):
    """A unified customer is a company exactly when the truth says so."""
    truth = truth_records(resolved)
    kinds = {(s, o, i): kind for s, o, i, kind in stack.sql(
        "select source_system, source_object, source_id, customer_kind from intermediate.int_identity__customer_map")}
    wrong = [(record, kinds[record], resolved[uid]["kind"]) for record, uid in truth.items()
             if record in kinds and kinds[record] != resolved[uid]["kind"]]
    assert len(wrong) <= (1 - THRESHOLD) * len(truth), wrong[:5]


def test_renamed_companies_are_one_customer(stack, resolved):
    truth = truth_records(resolved)
    predicted = {(s, o, i): uid for s, o, i, uid in stack.sql(
        "select source_system, source_object, source_id, unified_customer_id from intermediate.int_identity__customer_map")}
    renamed = {uid for uid, entry in resolved.items() if entry.get("former_name")}
    split = [uid for uid in renamed
             if len({predicted.get(record) for record, owner in truth.items() if owner == uid}) > 1]
    assert not split, f"renamed companies split over several customers: {split}"


def test_customer_360_has_one_row_per_customer_and_keeps_every_order_and_invoice(stack, resolved):
    customers = stack.scalar("select count(distinct unified_customer_id) from intermediate.int_identity__customer_map")
    assert stack.scalar("select count(*) from marts.customer_360") == customers
    orders, revenue = stack.sql("select sum(shopify_order_count), sum(shopify_lifetime_revenue) from marts.customer_360")[0]
    assert (orders, revenue) == stack.sql(
        "select count(*), sum(net_revenue) from marts.shopify__orders where is_counted and customer_id is not null")[0]
    invoices, balance = stack.sql("select sum(quickbooks_invoice_count), sum(quickbooks_open_balance) from marts.customer_360")[0]
    assert (invoices, balance) == stack.sql("select count(*), sum(balance) from marts.quickbooks__invoices")[0]


def test_the_demos_last_line_scores_the_same(stack, resolved):
    """`make demo` ends with `python -m tributary_sandbox score`: the sandbox's own check, read as
    the analyst, from the world its state folder records (orchestrate/ imports no sandbox code)."""
    shown = subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", "score"], env=stack.env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert re.fullmatch(r"Identity resolution vs the sandbox's truth: precision (1\.0000|0\.99\d\d), "
                        r"recall (1\.0000|0\.99\d\d) \(\d+ records, \d+ same-customer pairs\)\n", shown.stdout), shown.stdout
