"""Run tap-ga4 in-process or through its CLI and collect its Singer messages."""
from __future__ import annotations

import collections
import io
import json
import subprocess
import sys
from pathlib import Path

from tap_ga4.tap import TapGA4


class Output:
    def __init__(self, lines: list[str], error: BaseException | None = None) -> None:
        self.messages = [json.loads(line) for line in lines if line.strip()]
        self.error = error

    def records(self, stream: str) -> list[dict]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def schema(self, stream: str) -> dict:
        return [m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream][-1]["schema"]

    def counts(self) -> collections.Counter:
        return collections.Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")

    @property
    def state(self) -> dict | None:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    def bookmark(self, stream: str, property_id: str) -> str | None:
        for part in ((self.state or {}).get("bookmarks", {}).get(stream, {}).get("partitions") or []):
            if part["context"].get("property_id") == property_id:
                return part.get("replication_key_value")
        return None


def select_all(catalog: dict, only: set[str] | None = None) -> dict:
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = only is None or entry["tap_stream_id"] in only
    return catalog


def run_tap(config: dict, only: set[str] | None = None, state: dict | None = None,
            tap_out: list | None = None, raise_errors: bool = True, catalog: dict | None = None) -> Output:
    """Discover (unless given a catalog), select (all, or `only`), sync; in-process so tests can
    patch and inspect."""
    catalog = select_all(catalog or TapGA4(config=config).catalog_dict, only)
    tap = TapGA4(config=config, catalog=catalog, state=state or {})
    if tap_out is not None:
        tap_out.append(tap)
    buf = io.BytesIO()
    real = sys.stdout
    wrapper = io.TextIOWrapper(buf, encoding="utf-8")
    sys.stdout = wrapper
    error = None
    try:
        tap.sync_all()
    except Exception as exc:  # noqa: BLE001
        if raise_errors:
            raise
        error = exc
    finally:
        wrapper.flush()
        data = buf.getvalue()
        sys.stdout = real
        wrapper.detach()
    return Output(data.decode().splitlines(), error)


def cli(args: list[str], config: dict, tmp: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps(config))
    exe = Path(sys.executable).with_name("tap-ga4")
    return subprocess.run([str(exe), "--config", str(cfg), *args], capture_output=True, text=True,
                          timeout=300, input=stdin)
