"""How well the warehouse unified customers, held against the world's ground truth.

Pairs of source records placed in the same customer: precision = correct pairs / predicted
pairs, recall = correct pairs / true pairs. Used by the identity test and the demo's summary.
"""
from __future__ import annotations

import itertools
from collections import defaultdict

# (system, object, truth field) for every kind of source record the truth knows.
TRUTH_FIELDS = (("quickbooks", "customer", "quickbooks_customer_ids"),
                ("shopify", "customer", "shopify_customer_ids"),
                ("attio", "company", "attio_company_ids"),
                ("attio", "person", "attio_person_ids"))


def truth_records(customers: dict) -> dict[tuple[str, str, str], str]:
    """(system, object, source id) → the unified customer the truth puts it in."""
    records = {}
    for uid, entry in customers.items():
        for system, obj, field in TRUTH_FIELDS:
            for source_id in entry[field]:
                records[(system, obj, str(source_id))] = uid
    return records


def same_customer_pairs(assignment: dict, records: set) -> set[tuple]:
    members = defaultdict(list)
    for record in records:
        members[assignment[record]].append(record)
    return {pair for group in members.values() for pair in itertools.combinations(sorted(group), 2)}


def score_unification(customers: dict, predicted: dict[tuple[str, str, str], str]) -> dict:
    """`customers`: the truth's customers; `predicted`: (system, object, id) → unified id."""
    truth = truth_records(customers)
    common = set(truth) & set(predicted)
    true_pairs = same_customer_pairs(truth, common)
    predicted_pairs = same_customer_pairs(predicted, common)
    correct = true_pairs & predicted_pairs
    return {
        "records": len(common), "true_pairs": len(true_pairs), "predicted_pairs": len(predicted_pairs),
        "correct_pairs": len(correct),
        "precision": len(correct) / len(predicted_pairs) if predicted_pairs else 1.0,
        "recall": len(correct) / len(true_pairs) if true_pairs else 1.0,
        "wrongly_merged": sorted(predicted_pairs - true_pairs)[:5],
        "missed": sorted(true_pairs - predicted_pairs)[:5],
    }
