"""Column and stream names hold for the life of what they name: the same attributes listed in any
order give the same columns, two attributes never share one, an extra column never meets an
attribute's, and every name fits PostgreSQL's 63 bytes (longer ones are cut silently there, and
two cut names collide)."""
from __future__ import annotations

import itertools

from tap_attio.client import path_segment
from tap_attio.streams import RECORD_RESERVED
from tap_attio.tap import FIXED_STREAMS, table_names
from tap_attio.values import ValuesPlan
from tributary_tap_support.names import PLAIN, stable_name


def attribute(slug: str, kind: str = "text", ident: str | None = None) -> dict:
    return {"api_slug": slug, "type": kind, "id": {"attribute_id": ident or f"id-{slug}"}}


def columns(attributes: list[dict]) -> dict[str, list[str]]:
    return ValuesPlan(attributes, RECORD_RESERVED).columns_of


def test_the_order_attio_lists_attributes_in_changes_no_column():
    """Seen: `arr_currency_code` values moved to another column between two runs, exit 0."""
    listed = [attribute("arr", "currency"), attribute("arr_currency_code"), attribute("ARR currency code"),
              attribute("arr-currency-code"), attribute("prénom"), attribute("名前"), attribute("名字")]
    first = columns(listed)
    for order in itertools.islice(itertools.permutations(listed), 200):
        assert columns(list(order)) == first
    assert first["arr"] == ["arr", "arr__currency_code"]
    assert first["arr_currency_code"] == ["arr_currency_code"]
    every = [name for names in first.values() for name in names]
    assert len(every) == len(set(every))


def test_non_ascii_slugs_get_names_of_their_own_not_attribute_n():
    names = columns([attribute("名前", ident="a1"), attribute("名字", ident="a2"), attribute("prénom", ident="a3")])
    assert names["名前"][0] != names["名字"][0]
    assert names["名前"][0].startswith("attribute_") and names["prénom"][0].startswith("pr_nom_")
    # the same attribute keeps its name when others come and go
    assert columns([attribute("名字", ident="a2")])["名字"] == names["名字"]


def test_a_re_created_attribute_with_an_unplain_slug_gets_its_own_column():
    before = columns([attribute("Renewal Month", "text", ident="old")])["Renewal Month"]
    after = columns([attribute("Renewal Month", "number", ident="new")])["Renewal Month"]
    assert before != after


def test_a_fixed_columns_name_is_never_an_attributes():
    names = columns([attribute("values"), attribute("web_url"), attribute("record_id_2")])
    assert names["values"][0] not in RECORD_RESERVED and names["web_url"][0] not in RECORD_RESERVED
    assert names["record_id_2"] == ["record_id_2"]


def test_every_name_fits_postgres_and_long_slugs_stay_distinct():
    long_a, long_b = "x" * 70 + "_alpha", "x" * 70 + "_beta"
    names = columns([attribute(long_a, "personal-name"), attribute(long_b, "interaction")])
    every = [name for names_ in names.values() for name in names_]
    assert all(len(name.encode()) <= 63 for name in every), every
    assert len(every) == len(set(every))
    stream = stable_name("list_entries_" + "quarterly_enterprise_renewals_" * 3, "list-id", 63)
    assert len(stream.encode()) <= 63 and stream == stable_name("list_entries_" + "quarterly_enterprise_renewals_" * 3,
                                                                 "list-id", 63)
    assert stable_name("list_entries_sales_pipeline", "list-id", 63) == "list_entries_sales_pipeline"


def obj(slug: str, ident: str | None = None) -> dict:
    return {"api_slug": slug, "id": {"object_id": ident or f"object-{slug}"}}


def lst(slug: str, ident: str | None = None) -> dict:
    return {"api_slug": slug, "id": {"list_id": ident or f"list-{slug}"}}


def test_objects_and_lists_never_take_a_table_another_stream_has_or_may_have():
    """An object named like the tap's own table or like a list's would load into it; a later
    object must not rename an earlier list's table either."""
    objects = [obj("people"), obj("notes"), obj("list_entries_key_accounts"), obj("select"), obj("a/b?c"), obj("名前")]
    lists = [lst("key_accounts"), lst("order;"), lst("z" * 70)]
    object_names, list_names = table_names(objects, lists)
    assert object_names["people"] == "people" and object_names["select"] == "select"
    assert list_names["key_accounts"] == "list_entries_key_accounts"
    assert object_names["notes"] != "notes" and object_names["list_entries_key_accounts"] != "list_entries_key_accounts"
    every = [*object_names.values(), *list_names.values(), *(cls.name for cls in FIXED_STREAMS)]
    assert len(every) == len(set(every)), every
    assert all(PLAIN.fullmatch(name) and len(name.encode()) <= 63 for name in every), every
    # the same names whatever else the workspace holds, and in any order
    alone_objects, alone_lists = table_names([objects[2]], [lists[0]])
    assert alone_objects["list_entries_key_accounts"] == object_names["list_entries_key_accounts"]
    assert alone_lists == {"key_accounts": "list_entries_key_accounts"}
    assert table_names(objects[::-1], lists[::-1]) == (object_names, list_names)


def test_a_slug_is_one_path_segment():
    assert path_segment("people") == "people"
    assert path_segment("a/b?c#d%e") == "a%2Fb%3Fc%23d%25e"


def test_a_plain_slug_that_spells_another_hashed_name_gives_way():
    hashed = table_names([obj("Deals!", "o1")], [])[0]["Deals!"]
    objects, lists = table_names([obj("Deals!", "o1"), obj(hashed, "o2")], [lst("x y", "l1")])
    spelled = table_names([], [lst("x y", "l1")])[1]["x y"].removeprefix("list_entries_")
    _, both = table_names([], [lst("x y", "l1"), lst(spelled, "l2")])
    assert objects["Deals!"] == hashed and objects[hashed] != hashed
    assert len(set(both.values())) == 2
