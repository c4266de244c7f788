"""Several Attio workspaces, as an agency connects its clients' CRMs, refereed by Attio's own SDK
(test_attio_referee.py's Referee): each workspace answers to its own API key with its own records;
another workspace's key is refused there as Attio refuses an unknown token; a change in one
workspace leaves the other as it was.
"""
from __future__ import annotations

import pytest
from attio import errors

from test_attio_referee import Referee
from tributary_sandbox.vendors import attio as simulator

SECOND = "/instances/second"
SECOND_KEY = simulator.instance_options("second")["api_key"]


@pytest.fixture
def workspaces(two_businesses):
    two_businesses.ctl("POST", "/_sandbox/reset", {"scale": 0.3})
    return (Referee(f"{two_businesses.control}/attio"),
            Referee(f"{two_businesses.control}{SECOND}/attio", token=SECOND_KEY))


def people(referee: Referee) -> dict[str, str]:
    found = referee(referee.sdk.records.post_v2_objects_object_records_query, object="people", limit=500, offset=0,
                    sorts=[{"attribute": "created_at", "direction": "asc"}]).data
    return {p.id.record_id: p.id.workspace_id for p in found}


def test_each_workspace_answers_its_own_key_with_its_own_records(two_businesses, workspaces):
    first, second = workspaces
    first_self, second_self = first(first.sdk.meta.get_v2_self), second(second.sdk.meta.get_v2_self)
    assert first_self.workspace_id != second_self.workspace_id
    assert (first_self.workspace_name, second_self.workspace_name) == ("Tributary", "Tributary Second")
    first_people, second_people = people(first), people(second)
    assert not set(first_people) & set(second_people)
    assert set(first_people.values()) == {first_self.workspace_id}
    assert set(second_people.values()) == {second_self.workspace_id}
    # Each workspace's own truth (the sandbox's hooks under its prefix) counts what its key reads.
    assert len(second_people) == two_businesses.ctl("GET", f"{SECOND}/_sandbox/attio/counts")["people"]
    assert len(first_people) == two_businesses.ctl("GET", "/_sandbox/attio/counts")["people"]


def test_a_key_reads_only_its_own_workspace(two_businesses):
    for base, token in ((f"{two_businesses.control}{SECOND}/attio", simulator.API_KEY),
                        (f"{two_businesses.control}/attio", SECOND_KEY)):
        with pytest.raises(errors.SDKError) as refused:
            Referee(base, token=token).sdk.objects.get_v2_objects()
        assert refused.value.raw_response.status_code == 401
        assert refused.value.raw_response.json()["code"] == "invalid_api_key"


def test_a_change_in_one_workspace_leaves_the_other_as_it_was(two_businesses, workspaces):
    first, second = workspaces
    before = people(first)
    changed = two_businesses.ctl("POST", f"{SECOND}/_sandbox/attio/mutate",
                                 {"object": "people", "create": 2, "delete": 1})
    after_second = people(second)
    assert set(changed["created"]) <= set(after_second) and not set(changed["deleted"]) & set(after_second)
    assert people(first) == before
