"""tap-attio: the Tap class, its settings and stream discovery."""
from __future__ import annotations

import collections
import time

from singer_sdk import typing as th
from tributary_tap_support.names import IDENTIFIER_BYTES, stable_name
from tributary_tap_support.tap import SDK_FAST_PATH, TributaryTap

from tap_attio.auth import API_KEY_HINT
from tap_attio.client import DEFAULT_API_URL, RECORDS_PAGE_MAX
from tap_attio.streams import (
    AttributesStream,
    ListAttributesStream,
    ListEntriesStream,
    ListsStream,
    NotesStream,
    ObjectsStream,
    RecordsStream,
    TasksStream,
    WorkspaceMembersStream,
)


class TapAttio(TributaryTap):
    """Singer tap for Attio: workspace structure, one records stream per object, list entries,
    notes and tasks."""

    name = "tap-attio"
    dynamic_catalog = True    # streams and columns come from the workspace's objects and attributes
    setting_hints = {"api_key": "set " + API_KEY_HINT.removeprefix("check ")}

    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True,
                    description="Attio access token (Workspace settings → Developers → Access tokens) "
                                "or OAuth token. Env: TAP_ATTIO_API_KEY."),
        th.Property("api_url", th.StringType, default=DEFAULT_API_URL,
                    description="Base URL of the Attio v2 API (the sandbox: http://127.0.0.1:<port>/attio/v2)."),
        th.Property("start_date", th.DateTimeType,
                    description="Only sync records, entries, notes and tasks created at or after this "
                                "moment. Unset = everything (recommended: edits to older records are "
                                "otherwise never seen)."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=RECORDS_PAGE_MAX), default=RECORDS_PAGE_MAX,
                    description="Records/entries per query page (Attio's documented default and our "
                                "maximum: 500)."),
        th.Property("objects", th.ArrayType(th.StringType),
                    description="Object slugs to sync records for (e.g. [companies, people, deals]). "
                                "Unset = every object in the workspace, custom objects included."),
        th.Property("max_requests_per_second", th.NumberType, default=80,
                    description="Client-side request ceiling; Attio allows 100 reads per second. "
                                "0 disables the throttle."),
        th.Property("emit_activate_version_messages", th.BooleanType, default=True,
                    description="Send ACTIVATE_VERSION after each complete full-table stream, so a "
                                "loader that honours it marks records deleted in Attio as deleted."),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
        th.Property("request_timeout", th.NumberType, default=300,
                    description="Seconds to wait for one answer; a slower one is retried like a dropped connection."),
        SDK_FAST_PATH,
    ).to_dict()

    def __init__(self, *args, **kwargs) -> None:
        self.run_version = int(time.time() * 1000)   # the table version of every full-table stream
        super().__init__(*args, **kwargs)

    # -- discovery ----------------------------------------------------------------------------------
    def discover_streams(self) -> list:
        streams: list = [cls(self) for cls in FIXED_STREAMS]
        objects = list(ObjectsStream(self).request_records(None))
        lists = list(ListsStream(self).request_records(None))
        object_names, list_names = table_names(objects, lists)   # over all of them: see table_names

        wanted = self.config.get("objects")
        if wanted:
            known = {o["api_slug"] for o in objects}
            for slug in sorted(set(wanted) - known):
                self.logger.warning("Setting 'objects' names %r, which this Attio workspace does not have "
                                    "(it has: %s)", slug, ", ".join(sorted(known)))
            objects = [o for o in objects if o["api_slug"] in set(wanted)]
        attributes_reader = AttributesStream(self)
        for obj in objects:
            attrs = list(attributes_reader.request_records({"object_slug": obj["api_slug"]}))
            streams.append(RecordsStream(self, obj, attrs, name=object_names[obj["api_slug"]]))
        list_attrs_reader = ListAttributesStream(self)
        for lst in lists:
            attrs = list(list_attrs_reader.request_records({"list_slug": lst["api_slug"]}))
            streams.append(ListEntriesStream(self, lst, attrs, name=list_names[lst["api_slug"]]))
        return streams


FIXED_STREAMS = (WorkspaceMembersStream, ObjectsStream, AttributesStream, ListsStream, ListAttributesStream,
                 NotesStream, TasksStream)
LIST_PREFIX = "list_entries_"


def table_names(objects: list[dict], lists: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
    """The stream (= raw table) name of each object's records and each list's entries, by slug:
    `<object slug>` and `list_entries_<list slug>` when plain, else made so for good by the shared
    name policy (tributary_tap_support/names.py, keyed by Attio's id). No name ever depends on
    what else the workspace holds: an object may not take a fixed stream's name (`notes`) nor one
    starting `list_entries_` (a list's, now or later), so adding an object renames nothing."""
    fixed = {cls.name for cls in FIXED_STREAMS}

    def object_name(obj: dict) -> str:
        slug = obj["api_slug"]
        reserved = fixed | ({slug} if slug.startswith(LIST_PREFIX) else set())
        return stable_name(slug, (obj.get("id") or {}).get("object_id") or slug, IDENTIFIER_BYTES, taken=reserved)

    def list_name(lst: dict) -> str:
        slug = lst["api_slug"]
        return stable_name(LIST_PREFIX + slug, (lst.get("id") or {}).get("list_id") or slug, IDENTIFIER_BYTES)

    object_names = {o["api_slug"]: object_name(o) for o in objects}
    list_names = {li["api_slug"]: list_name(li) for li in lists}
    # A plain slug can spell another's hashed name (`deals_1baea66c` beside `Deals!`): then the
    # plain one gives way too, so no two streams ever load one table.
    counts = collections.Counter([*object_names.values(), *list_names.values()])
    for names, items, id_key, prefix in ((object_names, objects, "object_id", ""), (list_names, lists, "list_id", LIST_PREFIX)):
        for item in items:
            slug = item["api_slug"]
            if counts[names[slug]] > 1 and names[slug] == prefix + slug:
                names[slug] = stable_name(prefix + slug, (item.get("id") or {}).get(id_key) or slug, IDENTIFIER_BYTES,
                                          taken={prefix + slug})
    return object_names, list_names



if __name__ == "__main__":
    TapAttio.main()
