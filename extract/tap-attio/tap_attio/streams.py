"""Attio streams.

Replication: every stream is FULL_TABLE. Attio has no updated-at attribute and no change feed
besides webhooks: a `created_at` bookmark would catch new records but silently miss every edit
(a stage moved, a job title changed), so the only correct default is to re-read. It is cheap:
500 records per request, about 2 requests per 1,000 records. After the last page of a top-level
stream the tap sends ACTIVATE_VERSION (setting `emit_activate_version_messages`, on by default),
so a loader that honours it marks rows deleted in Attio as deleted. Primary keys make the
loader upsert.
"""
from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_attio.client import (
    NOTES_PAGE_MAX,
    TASKS_PAGE_MAX,
    AttioGetPagedStream,
    AttioQueryStream,
    AttioStream,
    path_segment,
)
from tap_attio.values import ValuesPlan, ts

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.tap_base import Tap

ACTOR = th.ObjectType(th.Property("type", th.StringType), th.Property("id", th.StringType))
ANY_OBJECT = th.ObjectType()


def _ts_fields(row: dict, *names: str) -> dict:
    for n in names:
        if n in row:
            row[n] = ts(row[n])
    return row


# ---- workspace structure -------------------------------------------------------------------------
class WorkspaceMembersStream(AttioStream):
    name = "workspace_members"
    path = "/workspace_members"
    primary_keys = ("workspace_member_id",)
    schema = th.PropertiesList(
        th.Property("workspace_member_id", th.StringType, required=True),
        th.Property("workspace_id", th.StringType),
        th.Property("first_name", th.StringType),
        th.Property("last_name", th.StringType),
        th.Property("avatar_url", th.StringType),
        th.Property("email_address", th.StringType),
        th.Property("access_level", th.StringType),
        th.Property("created_at", th.DateTimeType),
    ).to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["workspace_member_id"] = ident.get("workspace_member_id")
        row["workspace_id"] = ident.get("workspace_id")
        return _ts_fields(row, "created_at")


class ObjectsStream(AttioStream):
    name = "objects"
    path = "/objects"
    primary_keys = ("object_id",)
    schema = th.PropertiesList(
        th.Property("object_id", th.StringType, required=True),
        th.Property("workspace_id", th.StringType),
        th.Property("api_slug", th.StringType),
        th.Property("singular_noun", th.StringType),
        th.Property("plural_noun", th.StringType),
        th.Property("created_at", th.DateTimeType),
    ).to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["object_id"] = ident.get("object_id")
        row["workspace_id"] = ident.get("workspace_id")
        return _ts_fields(row, "created_at")

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"object_slug": record["api_slug"], "object_id": record["object_id"]}


ATTRIBUTE_PROPERTIES = (
    th.Property("attribute_id", th.StringType, required=True),
    th.Property("workspace_id", th.StringType),
    th.Property("api_slug", th.StringType),
    th.Property("title", th.StringType),
    th.Property("description", th.StringType),
    th.Property("type", th.StringType),
    th.Property("is_system_attribute", th.BooleanType),
    th.Property("is_writable", th.BooleanType),
    th.Property("is_required", th.BooleanType),
    th.Property("is_unique", th.BooleanType),
    th.Property("is_multiselect", th.BooleanType),
    th.Property("is_default_value_enabled", th.BooleanType),
    th.Property("is_archived", th.BooleanType),
    th.Property("default_value", ANY_OBJECT),
    th.Property("relationship", ANY_OBJECT),
    th.Property("config", ANY_OBJECT),
    th.Property("created_at", th.DateTimeType),
)


class AttributesStream(AttioStream):
    """Attributes of every object (child of `objects`)."""

    name = "attributes"
    path = "/objects/{object_slug}/attributes"   # (get_url puts the slug in, percent-encoded)
    primary_keys = ("attribute_id",)
    parent_stream_type = ObjectsStream
    state_partitioning_keys: t.ClassVar[list] = []   # full table: no per-object state to keep
    schema = th.PropertiesList(
        *ATTRIBUTE_PROPERTIES,
        th.Property("object_id", th.StringType),
        th.Property("object_slug", th.StringType),
    ).to_dict()

    def get_url(self, context: Context | None) -> str:
        return f"{self.url_base}/objects/{path_segment(context['object_slug'])}/attributes"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["attribute_id"] = ident.get("attribute_id")
        row["workspace_id"] = ident.get("workspace_id")
        row["object_id"] = ident.get("object_id")
        row["object_slug"] = (context or {}).get("object_slug")
        return _ts_fields(row, "created_at")


class ListsStream(AttioStream):
    name = "lists"
    path = "/lists"
    primary_keys = ("list_id",)
    schema = th.PropertiesList(
        th.Property("list_id", th.StringType, required=True),
        th.Property("workspace_id", th.StringType),
        th.Property("api_slug", th.StringType),
        th.Property("name", th.StringType),
        th.Property("parent_object", th.ArrayType(th.StringType)),
        th.Property("workspace_access", th.StringType),
        th.Property("workspace_member_access", th.ArrayType(ANY_OBJECT)),
        th.Property("created_by_actor", ACTOR),
        th.Property("created_at", th.DateTimeType),
    ).to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["list_id"] = ident.get("list_id")
        row["workspace_id"] = ident.get("workspace_id")
        return _ts_fields(row, "created_at")

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"list_slug": record["api_slug"], "list_id": record["list_id"]}


class ListAttributesStream(AttioStream):
    """Attributes of list entries (child of `lists`)."""

    name = "list_attributes"
    path = "/lists/{list_slug}/attributes"   # (get_url puts the slug in, percent-encoded)
    primary_keys = ("attribute_id",)
    parent_stream_type = ListsStream
    state_partitioning_keys: t.ClassVar[list] = []
    schema = th.PropertiesList(
        *ATTRIBUTE_PROPERTIES,
        th.Property("list_id", th.StringType),
        th.Property("list_slug", th.StringType),
    ).to_dict()

    def get_url(self, context: Context | None) -> str:
        return f"{self.url_base}/lists/{path_segment(context['list_slug'])}/attributes"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["attribute_id"] = ident.get("attribute_id")
        row["workspace_id"] = ident.get("workspace_id")
        # Attio's documented attribute id names its parent `object_id`, for a list's too
        row["list_id"] = ident.get("object_id") or (context or {}).get("list_id")
        row["list_slug"] = (context or {}).get("list_slug")
        return _ts_fields(row, "created_at")


# ---- notes and tasks -----------------------------------------------------------------------------
class NotesStream(AttioGetPagedStream):
    """FULL_TABLE: notes are edited in the app and carry no updated-at."""

    name = "notes"
    path = "/notes"
    primary_keys = ("note_id",)
    page_size = NOTES_PAGE_MAX
    schema = th.PropertiesList(
        th.Property("note_id", th.StringType, required=True),
        th.Property("workspace_id", th.StringType),
        th.Property("parent_object", th.StringType),
        th.Property("parent_record_id", th.StringType),
        th.Property("title", th.StringType),
        th.Property("meeting_id", th.StringType),
        th.Property("content_plaintext", th.StringType),
        th.Property("content_markdown", th.StringType),
        th.Property("tags", th.ArrayType(ANY_OBJECT)),
        th.Property("created_by_actor", ACTOR),
        th.Property("created_at", th.DateTimeType),
    ).to_dict()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["note_id"] = ident.get("note_id")
        row["workspace_id"] = ident.get("workspace_id")
        start = self.config.get("start_date")
        if start and (row.get("created_at") or "") < start:
            return None
        return _ts_fields(row, "created_at")


class TasksStream(AttioGetPagedStream):
    """FULL_TABLE: tasks get completed, reassigned and re-dated with no updated-at."""

    name = "tasks"
    path = "/tasks"
    primary_keys = ("task_id",)
    page_size = TASKS_PAGE_MAX
    schema = th.PropertiesList(
        th.Property("task_id", th.StringType, required=True),
        th.Property("workspace_id", th.StringType),
        th.Property("content_plaintext", th.StringType),
        th.Property("deadline_at", th.DateTimeType),
        th.Property("is_completed", th.BooleanType),
        th.Property("completed_at", th.DateTimeType),
        th.Property("linked_records", th.ArrayType(th.ObjectType(
            th.Property("target_object_id", th.StringType),
            th.Property("target_record_id", th.StringType)))),
        th.Property("assignees", th.ArrayType(th.ObjectType(
            th.Property("referenced_actor_type", th.StringType),
            th.Property("referenced_actor_id", th.StringType)))),
        th.Property("created_by_actor", ACTOR),
        th.Property("created_at", th.DateTimeType),
    ).to_dict()

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict:
        return {**super().get_url_params(context, next_page_token), "sort": "created_at:asc"}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row.pop("id", {}) or {}
        row["task_id"] = ident.get("task_id")
        row["workspace_id"] = ident.get("workspace_id")
        start = self.config.get("start_date")
        if start and (row.get("created_at") or "") < start:
            return None
        return _ts_fields(row, "created_at", "deadline_at", "completed_at")


# ---- records and list entries (one stream per object / list, schema from its attributes) -----------
def _unknown_columns(stream, produced: t.Iterable[str]) -> tuple:
    """Columns we produce that an older input catalog does not declare (attributes added since
    it was discovered): dropped, so records match the SCHEMA sent. Their data stays in the raw
    values column; re-discover to get them as columns."""
    declared = stream.effective_schema.get("properties", {})
    return tuple(c for c in produced if c not in declared)
RECORD_RESERVED = {"record_id", "object_slug", "object_id", "workspace_id", "web_url", "created_at", "values"}
ENTRY_RESERVED = {"entry_id", "list_slug", "list_id", "workspace_id", "parent_record_id", "parent_object",
                  "created_at", "entry_values"}


class RecordsStream(AttioQueryStream):
    """All records of one object, every attribute flattened to its current value.

    The records already match the declared schema (built from the object's attributes, values
    taken as Attio types them), so the SDK's per-record type conformance is switched off; and
    then the deep `values` column is not walked for deselection either (sdk_private.FastRecordPath)."""

    primary_keys = ("record_id",)
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, object_def: dict, attributes: list[dict], name: str) -> None:
        self.object_slug = object_def["api_slug"]
        self.object_def = object_def
        # record_id and created_at are attributes too, and equal the record's own fields
        self.plan = ValuesPlan(attributes, RECORD_RESERVED, skip={"record_id", "created_at"})
        props = {
            "record_id": {"type": ["string"]},
            "object_slug": {"type": ["string", "null"]},
            "object_id": {"type": ["string", "null"]},
            "workspace_id": {"type": ["string", "null"]},
            "web_url": {"type": ["string", "null"]},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            **self.plan.properties,
            "values": {"type": ["object", "null"]},
        }
        schema = {"type": "object", "properties": props, "required": ["record_id"]}
        self._drop: tuple | None = None
        super().__init__(tap=tap, name=name, schema=schema, path=f"/objects/{path_segment(self.object_slug)}/records/query")

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row["id"]
        values = row.get("values") or {}
        created = row.get("created_at")
        out = {
            "record_id": ident["record_id"],
            "object_slug": self.object_slug,
            "object_id": ident.get("object_id"),
            "workspace_id": ident.get("workspace_id"),
            "web_url": row.get("web_url"),
            "created_at": created[:26] + "Z" if created and len(created) > 27 else created,
        }
        self.plan.fill(values, out)
        out["values"] = values
        if self._drop is None:
            self._drop = _unknown_columns(self, out)
        for col in self._drop:
            del out[col]
        return out


class ListEntriesStream(AttioQueryStream):
    """All entries of one list, entry attribute values flattened like record values."""

    primary_keys = ("entry_id",)
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, list_def: dict, attributes: list[dict], name: str) -> None:
        self.list_slug = list_def["api_slug"]
        self.plan = ValuesPlan(attributes, ENTRY_RESERVED)
        props = {
            "entry_id": {"type": ["string"]},
            "list_slug": {"type": ["string", "null"]},
            "list_id": {"type": ["string", "null"]},
            "workspace_id": {"type": ["string", "null"]},
            "parent_record_id": {"type": ["string", "null"]},
            "parent_object": {"type": ["string", "null"]},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            **self.plan.properties,
            "entry_values": {"type": ["object", "null"]},
        }
        schema = {"type": "object", "properties": props, "required": ["entry_id"]}
        self._drop: tuple | None = None
        super().__init__(tap=tap, name=name, schema=schema, path=f"/lists/{path_segment(self.list_slug)}/entries/query")

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        ident = row["id"]
        values = row.get("entry_values") or {}
        out = {
            "entry_id": ident["entry_id"],
            "list_slug": self.list_slug,
            "list_id": ident.get("list_id"),
            "workspace_id": ident.get("workspace_id"),
            "parent_record_id": row.get("parent_record_id"),
            "parent_object": row.get("parent_object"),
            "created_at": ts(row.get("created_at")),
        }
        self.plan.fill(values, out)
        out["entry_values"] = values
        if self._drop is None:
            self._drop = _unknown_columns(self, out)
        for col in self._drop:
            del out[col]
        return out
