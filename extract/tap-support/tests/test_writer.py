"""The buffered writer: the SDK's bytes, a flush only on messages a loader acts on."""
from __future__ import annotations

import datetime as dt
import io
import sys

from singer_sdk.singerlib import RecordMessage, StateMessage

from tributary_tap_support.writer import BufferedMsgSpecWriter


class Stdout(io.TextIOWrapper):
    def __init__(self) -> None:
        self.raw_bytes = io.BytesIO()
        self.flushes = 0
        super().__init__(self.raw_bytes, encoding="utf-8")

    @property
    def buffer(self):  # noqa: ANN201
        outer = self

        class Counting:
            def write(self, data: bytes) -> None:
                outer.raw_bytes.write(bytes(data))

            def flush(self) -> None:
                outer.flushes += 1
        return Counting()


def test_write_record_writes_what_write_message_writes(monkeypatch):
    when = dt.datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)
    record = {"id": 1, "name": "Ada", "nested": {"n": 1.5, "l": [1, None]}, "day": dt.date(2026, 1, 2), "none": None}
    for version in (None, 1764000000000):
        out = Stdout()
        monkeypatch.setattr(sys, "stdout", out)
        writer = BufferedMsgSpecWriter()
        writer.write_message(RecordMessage(stream="people", record=record, version=version, time_extracted=when))
        writer.write_record("people", record, version, when)
        first, second = out.raw_bytes.getvalue().splitlines()
        assert first == second


def test_only_records_are_left_unflushed(monkeypatch):
    out = Stdout()
    monkeypatch.setattr(sys, "stdout", out)
    writer = BufferedMsgSpecWriter()
    writer.write_message(RecordMessage(stream="s", record={"id": 1}))
    writer.write_record("s", {"id": 2}, None, dt.datetime.now(dt.timezone.utc))
    assert out.flushes == 0
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert out.flushes == 1
