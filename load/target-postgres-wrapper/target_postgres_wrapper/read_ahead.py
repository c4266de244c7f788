"""Keep reading the tap's output while a batch is being written.

The SDK reads stdin only between batches: while a batch is converted to COPY rows and merged
(several seconds per 10,000 wide records, much of it PostgreSQL working while we wait), nobody
reads the pipe, it fills (64 kB) and the tap stops producing. A thread here reads the pipe into
a bounded buffer instead, so the tap keeps working while PostgreSQL merges. The thread only
copies bytes (reads release the GIL); lines are split and parsed in the main thread as before.

Bounded: at most READ_AHEAD_BYTES wait in memory, after which the tap is held up as before.
Lines are handed over as bytes (msgspec parses bytes directly, no str decoding).
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
import typing as t

CHUNK_BYTES = 1 << 20           # one read from the pipe
READ_AHEAD_BYTES = 64 << 20     # at most this much read but not yet parsed (~18,000 Attio people)
PAUSE_SECONDS = 0.005           # after a short read: a 1 MB pipe holds 5 ms of even the fastest tap
_END = None


def _widen_pipe(fd: int) -> None:
    """A 1 MB pipe instead of 64 kB: fewer, larger reads (each needs the GIL once)."""
    try:
        with open("/proc/sys/fs/pipe-max-size") as limit:
            size = min(CHUNK_BYTES, int(limit.read()))
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ValueError):
        pass  # not a pipe (a file, a terminal) or not Linux: reading works the same, only slower


class ReadAhead:
    """Iterates over the lines (bytes, newline stripped) of a file descriptor read by a thread."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._chunks: queue.Queue = queue.Queue(maxsize=READ_AHEAD_BYTES // CHUNK_BYTES)
        self._error: BaseException | None = None
        _widen_pipe(fd)
        self._thread = threading.Thread(target=self._pump, name="stdin-read-ahead", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            while chunk := os.read(self._fd, CHUNK_BYTES):
                self._chunks.put(chunk)
                if len(chunk) < CHUNK_BYTES // 4:
                    # The tap writes a few kB at a time: reading each piece as it comes would wake
                    # this thread, and take the GIL from the busy main thread, tens of thousands
                    # of times per run (~15% more CPU, measured). Let the pipe fill a little first.
                    time.sleep(PAUSE_SECONDS)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread below
            self._error = error
        finally:
            self._chunks.put(_END)

    def __iter__(self) -> t.Iterator[bytes]:
        rest = b""
        while (chunk := self._chunks.get()) is not _END:
            lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
            rest = lines.pop()          # the unfinished last line (b"" after a newline)
            yield from lines
        if self._error is not None:
            raise self._error
        if rest:
            yield rest
