"""Run tap-shopify in-process or through its CLI and collect its Singer messages."""
from __future__ import annotations

import collections
import io
import json
import subprocess
import sys
from pathlib import Path

from tap_shopify.tap import TapShopify


class Output:
    def __init__(self, lines: list[str]) -> None:
        self.messages = [json.loads(line) for line in lines if line.strip()]

    def records(self, stream: str) -> list[dict]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def schema(self, stream: str) -> dict:
        return [m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream][-1]["schema"]

    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    def counts(self) -> collections.Counter:
        return collections.Counter(m["stream"] for m in self.messages if m["type"] == "RECORD")


def select_all(catalog: dict, only: set[str] | None = None) -> dict:
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = only is None or entry["tap_stream_id"] in only
    return catalog


def run_tap(config: dict, only: set[str] | None = None, state: dict | None = None,
            tap_out: list | None = None) -> Output:
    """Discover, select (all, or `only`), sync; in-process so tests can patch and inspect."""
    catalog = select_all(TapShopify(config=config).catalog_dict, only)
    tap = TapShopify(config=config, catalog=catalog, state=state)
    if tap_out is not None:
        tap_out.append(tap)
    buf = io.BytesIO()
    real = sys.stdout
    wrapper = io.TextIOWrapper(buf, encoding="utf-8")
    sys.stdout = wrapper
    try:
        tap.sync_all()
        wrapper.flush()
        data = buf.getvalue()
    finally:
        sys.stdout = real
        wrapper.detach()
    return Output(data.decode().splitlines())


def cli(args: list[str], config: dict, tmp: Path) -> subprocess.CompletedProcess:
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps(config))
    exe = Path(sys.executable).with_name("tap-shopify")
    return subprocess.run([str(exe), "--config", str(cfg), *args], capture_output=True, text=True, timeout=600)
