"""Every use our taps make of a private method of the Singer SDK, in one place, each with why.

Two kinds:
- speed-ups (FastRecordPath): shortcuts around the SDK's per-record steps, each writing what the
  step it replaces would. The tap setting `sdk_fast_path: false` turns them all off: the SDK's
  stock path, for when a new SDK changed what they stand in for.
- correctness (OwnBookmarks and the functions below): things the SDK does only inside private
  methods, with no public hook (a bookmark moved only after a whole page or window, STATE sent
  at that moment, ACTIVATE_VERSION sent after a complete listing instead of before it).

RELIED_ON records, for the pinned singer-sdk 0.54.9, the signature and a hash of the source of
every SDK method this module calls, overrides or copies the behaviour of; tests/test_sdk_private.py
fails when an installed SDK differs. Needs singer_sdk.
"""
from __future__ import annotations

import datetime as dt
import typing as t
from functools import cached_property

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage

from tributary_tap_support.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.streams import Stream

# "module:qualified name" → (signature, sha256 of its source, what we rely on)
RELIED_ON: dict[str, tuple[str, str, str]] = {
    "singer_sdk.streams.core:Stream._generate_record_messages": (
        "(self, record: 'types.Record') -> 't.Generator[singer.RecordMessage, None, None]'",
        "9b5f9fbcdedb7a1aec5673a44f51fd9bd88840f19f0fb29cba9953b9d9095bfe",
        "it drops deselected properties (pop_deselected_record_properties), conforms types, then yields one "
        "RecordMessage per stream map with _stream_version and the time: FastRecordPath._generate_record_messages "
        "yields the same when only top-level columns are deselected and conformance is NONE"),
    "singer_sdk.helpers._catalog:pop_deselected_record_properties": (
        "(record: 'dict[str, t.Any]', schema: 'dict', mask: 'SelectionMask', breadcrumb: 'tuple[str, ...]' = ()) "
        "-> 'None'",
        "e69d4428c03eced1b4cdc2d49a8201c2e1b13ec870b5cbea819c90e9307038d1",
        "it drops only what the mask deselects: with no nested breadcrumb deselected, that is the deselected "
        "top-level columns FastRecordPath.deselected_columns drops"),
    "singer_sdk.helpers._typing:_conform_record_data_types": (
        "(input_object: 'dict[str, t.Any]', schema: 'dict', level: 'conform.TypeConformanceLevel', "
        "parent: 'str | None') -> 'tuple[dict[str, t.Any], list[str]]'",
        "89eb2e7c81e8c3fcb0a3936d1d0aa04705cef250658af3a8991255cef73c86ee",
        "at TypeConformanceLevel.NONE it returns the record untouched: FastRecordPath skips it"),
    "singer_sdk.streams.core:Stream._write_record_message": (
        "(self, record: 'types.Record') -> 'None'",
        "292b7bed39883bd999839ea8ac5153ab52287f6120f7203902892510b0cfbd08",
        "it writes each message _generate_record_messages yields, then marks the state unflushed: "
        "FastRecordPath._write_record_message does both, writing the one RECORD's bytes directly"),
    "singer_sdk.streams.core:Stream._process_record": (
        "(self, record: 'types.Record', child_context: 'types.Context | None' = None, "
        "partition_context: 'types.Context | None' = None) -> 'None'",
        "8529b9f3ce2f849db6858c120e7ea1b8ff246714ea48edb355ca3eb6a9c27c0b",
        "it only adds the partition keys a record lacks and syncs child streams: FastRecordPath skips it "
        "for a stream without children whose records carry those keys"),
    "singer_sdk.streams.core:Stream._sync_records": (
        "(self, context: 'types.Context | None' = None, *, write_messages: 'bool' = True) "
        "-> 't.Generator[dict, t.Any, t.Any]'",
        "8928dc7f50e9bf57cc98734b30e3953b0e19007f85fe020a0c80ccdbcf5d329f",
        "per record it calls post_process, _process_record, then (stream selected) _write_record_message and "
        "_increment_stream_state (OwnBookmarks hooks in there); _write_state_message every "
        "STATE_MSG_FREQUENCY records and at the end"),
    "singer_sdk.streams.core:Stream._increment_stream_state": (
        "(self, latest_record: 'types.Record', *, context: 'types.Context | None' = None) -> 'None'",
        "cabc0edb2fd4f0000dbd140a870dae871400ba13293bd2ecd8bdd93d0fb033bc",
        "it moves the bookmark to the record's replication key: OwnBookmarks.advance_bookmark calls it"),
    "singer_sdk.streams.core:Stream._write_state_message": (
        "(self) -> 'None'",
        "f82ecd8d169868234742e45a855006fd2596c96cab9d3d9f975a13517c6e3fda",
        "it writes the tap's STATE when the state manager is not flushed (write_state)"),
    "singer_sdk.streams.core:Stream._write_activate_version_message": (
        "(self, full_table_version: 'int') -> 'None'",
        "b5295d35a81b3da68d0522d9eee9888e6cea3e4531d9a30c1b1bd00ff16dab52",
        "it writes ACTIVATE_VERSION for each stream map (write_activate_version)"),
    "singer_sdk.streams.core:Stream.sync": (
        "(self, context: 'types.Context | None' = None) -> 'None'",
        "6b4262dcdddf22b403b9a06533e1184256199e09fb1bde3cf5bb063e8ae146c4",
        "it sets _stream_version and writes ACTIVATE_VERSION (before reading) only when "
        "emit_activate_version_messages is true: ours say false and set the version themselves"),
}


class FastRecordPath:
    """Per-record speed-ups for TributaryStream (which keeps the tap as `tap`).

    The SDK walks every record, nested dicts included, against the selection mask, conforms its
    types, builds a message object and stamps its own time: ~15 % of Attio's run, ~10 % of
    Shopify's on orders, ~40 % of GA4's on wide reports. Our records are built to their schema
    (TYPE_CONFORMANCE_LEVEL NONE); when, too, only whole top-level columns are deselected, those
    are dropped by name and the record goes out as is.
    """

    @cached_property
    def deselected_columns(self: Stream) -> tuple[str, ...] | None:
        """Top-level columns dropped from every record; None: the SDK's stock path (setting off,
        types conformed by the SDK, or a nested property deselected)."""
        if not self.config.get("sdk_fast_path", True) or self.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.NONE:
            return None
        mask = self.mask
        top = {("properties", name) for name in self.schema["properties"]}
        if any(not selected for crumb, selected in mask.items() if crumb and crumb not in top):
            return None
        return tuple(name for name in self.schema["properties"] if not mask[("properties", name)])

    @cached_property
    def direct_writer(self: Stream) -> BufferedMsgSpecWriter | None:
        """The tap's writer, when records go out unmapped (one plain stream map, no alias, no
        flattening) and it can write a record without a message object."""
        if self.deselected_columns is None:
            return None
        maps = self.stream_maps
        plain = (len(maps) == 1 and type(maps[0]) is SameRecordTransform and not maps[0].flattening_enabled
                 and maps[0].stream_alias == self.name)
        writer = self.tap.message_writer
        return writer if plain and isinstance(writer, BufferedMsgSpecWriter) else None

    def record_extracted_at(self) -> dt.datetime:
        """A record's time_extracted (a stream may stamp a whole page with one time)."""
        return dt.datetime.now(dt.timezone.utc)

    def _generate_record_messages(self: Stream, record: Record) -> t.Iterator[RecordMessage]:
        deselected = self.deselected_columns
        if deselected is None:
            yield from super()._generate_record_messages(record)  # type: ignore[misc]
            return
        for name in deselected:
            record.pop(name, None)
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(stream=stream_map.stream_alias, record=mapped, version=self._stream_version,
                                    time_extracted=self.record_extracted_at())

    def _write_record_message(self: Stream, record: Record) -> None:
        writer = self.direct_writer
        if writer is None:
            super()._write_record_message(record)  # type: ignore[misc]
            return
        for name in self.deselected_columns:
            record.pop(name, None)
        writer.write_record(self.name, record, self._stream_version, self.record_extracted_at())
        self.state_manager.is_flushed = False

    def _process_record(self: Stream, record: Record, child_context: Context | None = None,
                        partition_context: Context | None = None) -> None:
        if (self.config.get("sdk_fast_path", True) and not self.child_streams
                and all(key in record for key in partition_context or ())):
            return   # nothing to add, no child to sync
        super()._process_record(record, child_context, partition_context)  # type: ignore[misc]


class OwnBookmarks:
    """For a stream that moves its bookmark itself (after a whole page or window, so a run
    stopped half-way never marks unread rows as read), not after every record as the SDK does."""

    def _increment_stream_state(self, latest_record: Record, *, context: Context | None = None) -> None:
        self.record_synced(latest_record, context)

    def record_synced(self, record: Record, context: Context | None) -> None:
        """Called after each record is written; the bookmark moves only by advance_bookmark."""

    def advance_bookmark(self, record: Record, context: Context | None) -> None:
        """The SDK's own bookmark step, for `record`."""
        super()._increment_stream_state(record, context=context)  # type: ignore[misc]


def write_state(stream: Stream) -> None:
    """Send STATE now (a bookmark just moved), not at the SDK's next occasion."""
    stream.state_manager.is_flushed = False   # the SDK writes only state it has not flushed
    stream._write_state_message()  # noqa: SLF001


def set_stream_version(stream: Stream, version: int) -> None:
    """The table version RECORDs carry, for an ACTIVATE_VERSION sent after the listing."""
    stream._stream_version = version  # noqa: SLF001


def write_activate_version(stream: Stream, version: int) -> None:
    """ACTIVATE_VERSION after a complete listing (the SDK sends it before reading: a run that
    failed half-way would have the loader mark the unread rows deleted)."""
    stream._write_activate_version_message(version)  # noqa: SLF001


def write_record(stream: Stream, record: Record) -> None:
    """A RECORD the sync loop does not produce (a deletion tombstone), through the stream maps."""
    stream._write_record_message(record)  # noqa: SLF001
