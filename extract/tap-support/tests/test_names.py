"""The taps' one name policy: plain names kept, any other cut with a hash of the vendor's id."""
from __future__ import annotations

import re

from tributary_tap_support.names import IDENTIFIER_BYTES, stable_name


def test_plain_names_are_kept_and_others_made_plain_stable_and_distinct():
    assert stable_name("renewal_month", "id-1") == "renewal_month"
    odd = ['x") FROM PROGRAM \'id\' --', "Renewal Month", "renewal__month", "_x", "1st", "名前", "prénom", "y" * 70]
    names = [stable_name(name, f"id-{n}") for n, name in enumerate(odd)]
    assert all(re.fullmatch(r"[a-z0-9_]+", name) and len(name.encode()) <= IDENTIFIER_BYTES for name in names)
    assert len(set(names)) == len(names)
    assert names == [stable_name(name, f"id-{n}") for n, name in enumerate(odd)]  # the same every run
    assert stable_name("Renewal Month", "another id") != names[1]  # a re-created thing: a name of its own


def test_a_taken_name_or_a_long_one_is_made_distinct_within_the_limit():
    assert stable_name("values", "id-1", taken={"values"}) != "values"
    assert len(stable_name("a" * 40, "id-1", limit=30)) <= 30
