"""Attio's own client as the referee of the Attio simulator: every call tap-attio makes (and the
ones a developer tries first) goes through the `attio` SDK (generated from Attio's OpenAPI
document, every answer validated by its pydantic models) against the running sandbox.

An answer passes when the SDK accepts it and it carries no key the document does not declare
(pydantic would drop those silently, and a tap reading them reads what Attio never sends).
Where the SDK and Attio's documentation disagree, the documentation wins, said next to the case.
"""
from __future__ import annotations

import email.utils

import attio
import httpx
import pytest
from attio import errors
from pydantic import BaseModel

from tributary_sandbox.vendors import attio as simulator

OBJECTS = ("companies", "people", "deals", "users", "workspaces", "subscriptions")
LISTS = ("sales_pipeline", "key_accounts")


class Referee:
    """The SDK, with the raw body of each answer kept to look for undeclared keys."""

    def __init__(self, base_url: str, token: str = simulator.API_KEY) -> None:
        self.bodies: list[httpx.Response] = []
        client = httpx.Client(event_hooks={"response": [self._keep]}, trust_env=False)
        self.sdk = attio.SDK(oauth2=token, server_url=base_url, client=client)

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.bodies.append(response)

    def __call__(self, call, **kwargs):
        """`call(**kwargs)`, validated and checked for undeclared keys; returns the model."""
        model = call(**kwargs)
        extra = undeclared(self.bodies[-1].json(), model)
        assert not extra, f"keys Attio's document does not declare: {extra[:10]}"
        return model


def undeclared(raw, model, path: str = "") -> list[str]:
    """Paths of keys in `raw` that the validated `model` has no field for."""
    if isinstance(model, BaseModel):
        if not isinstance(raw, dict):
            return []
        fields = {(info.alias or name): name for name, info in type(model).model_fields.items()}
        found = []
        for key, value in raw.items():
            if key not in fields:
                found.append(f"{path}.{key}")
            else:
                found += undeclared(value, getattr(model, fields[key]), f"{path}.{key}")
        return found
    if isinstance(model, list) and isinstance(raw, list):
        return [p for i, (r, m) in enumerate(zip(raw, model)) for p in undeclared(r, m, f"{path}[{i}]")]
    if isinstance(model, dict) and isinstance(raw, dict):
        return [p for key in raw if key in model for p in undeclared(raw[key], model[key], f"{path}.{key}")]
    return []


@pytest.fixture
def referee(sim) -> Referee:
    return Referee(f"{sim.control}/attio")


def test_the_workspace_structure_the_tap_discovers(referee):
    sdk = referee.sdk
    token = referee(sdk.meta.get_v2_self)
    assert token.active
    objects = referee(sdk.objects.get_v2_objects).data
    assert {o.api_slug for o in objects} == set(OBJECTS)
    people = next(o for o in objects if o.api_slug == "people")
    assert referee(sdk.objects.get_v2_objects_object_, object=people.id.object_id).data.api_slug == "people"
    for slug in OBJECTS:
        attributes = referee(sdk.attributes.get_v2_target_identifier_attributes, target="objects", identifier=slug).data
        assert attributes and all(a.id.object_id for a in attributes)
    lists = referee(sdk.lists.get_v2_lists).data
    assert {li.api_slug for li in lists} == set(LISTS)
    for lst in lists:
        assert referee(sdk.lists.get_v2_lists_list_, list_id=lst.api_slug).data.id.list_id == lst.id.list_id
        attributes = referee(sdk.attributes.get_v2_target_identifier_attributes, target="lists",
                             identifier=lst.api_slug).data
        # Attio documents a list's attributes with `object_id` holding the list's id (the
        # attribute's parent), not `list_id`: the tap reads it from there
        assert attributes and all(a.id.object_id == lst.id.list_id for a in attributes)
    members = referee(sdk.workspace_members.get_v2_workspace_members).data
    assert members
    assert referee(sdk.workspace_members.get_v2_workspace_members_workspace_member_id_,
                   workspace_member_id=members[0].id.workspace_member_id).data.email_address


def test_records_and_entries_as_the_tap_pages_them(referee):
    sdk = referee.sdk
    for slug in OBJECTS:
        first = referee(sdk.records.post_v2_objects_object_records_query, object=slug, limit=500, offset=0,
                        sorts=[{"attribute": "created_at", "direction": "asc"}]).data
        assert first, slug
        # the tap's next page: a keyset on created_at
        after = referee(sdk.records.post_v2_objects_object_records_query, object=slug, limit=500, offset=1,
                        filter_={"created_at": {"$gte": first[-1].created_at}},
                        sorts=[{"attribute": "created_at", "direction": "asc"}]).data
        assert all(r.created_at >= first[-1].created_at for r in after), slug
        assert bool(after) == (len(first) == 500), slug   # a full page has a next one here
        one = referee(sdk.records.get_v2_objects_object_records_record_id_, object=slug,
                      record_id=first[0].id.record_id).data
        assert one.id.record_id == first[0].id.record_id
    for slug in LISTS:
        entries = referee(sdk.entries.post_v2_lists_list_entries_query, list_id=slug, limit=500,
                          sorts=[{"attribute": "created_at", "direction": "asc"}]).data
        assert entries, slug


def test_notes_and_tasks_as_the_tap_pages_them(referee):
    sdk = referee.sdk
    notes = referee(sdk.notes.get_v2_notes, limit=50, offset=0).data
    assert notes and referee(sdk.notes.get_v2_notes_note_id_, note_id=notes[0].id.note_id).data.id.note_id == \
        notes[0].id.note_id
    tasks = referee(sdk.tasks.get_v2_tasks, limit=500, offset=0).data
    assert tasks
    newest_first = referee(sdk.tasks.get_v2_tasks, limit=500, offset=0, sort="created_at:desc").data
    assert [t.id.task_id for t in newest_first] == [t.id.task_id for t in tasks][::-1]
    done = [t for t in tasks if t.is_completed]
    assert done and all(t.completed_at for t in done) and all(t.completed_at is None for t in tasks if not t.is_completed)
    assert referee(sdk.tasks.get_v2_tasks_task_id_, task_id=tasks[0].id.task_id).data.id.task_id == tasks[0].id.task_id


def test_errors_are_attios(sim, referee):
    sdk = referee.sdk
    with pytest.raises(errors.GetV2ObjectsObjectNotFoundError) as missing:
        sdk.objects.get_v2_objects_object_(object="no_such_object")
    assert (missing.value.data.type, missing.value.data.code) == ("invalid_request_error", "not_found")
    with pytest.raises(errors.SDKError) as refused:
        Referee(f"{sim.control}/attio", token="not-a-token").sdk.objects.get_v2_objects()
    assert refused.value.raw_response.status_code == 401
    assert refused.value.raw_response.json()["type"] == "auth_error"


def test_rate_limits_are_attios(sim, referee):
    """Attio's rate-limiting guide: 429, a Retry-After date (the next second, usually), and the
    body {status_code, type: rate_limit_error, code: rate_limit_exceeded, message}."""
    sim.ctl("POST", "/_sandbox/faults", {"rules": [{"vendor": "attio", "kind": "status", "status": 429}]})
    with pytest.raises(errors.SDKError) as limited:
        referee.sdk.objects.get_v2_objects()
    response = limited.value.raw_response
    assert response.status_code == 429
    assert email.utils.parsedate_to_datetime(response.headers["Retry-After"]).tzinfo is not None
    assert response.json() == {"status_code": 429, "type": "rate_limit_error", "code": "rate_limit_exceeded",
                               "message": response.json()["message"]}
    assert referee(referee.sdk.objects.get_v2_objects).data   # and the next call is served


def test_the_referee_sees_undeclared_keys(referee):
    """The check above every case can fail: a key Attio does not document is named."""
    referee(referee.sdk.tasks.get_v2_tasks, limit=1)
    raw = referee.bodies[-1].json()["data"][0]
    raw["format"] = "plaintext"
    raw["id"]["list_id"] = "not-documented"
    assert undeclared(raw, attio.models.Task.model_validate(raw)) == [".id.list_id", ".format"]
