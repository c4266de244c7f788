"""Run tap-ga4 in-process or through its CLI and collect its Singer messages (the helpers
every tap's suite shares are in tributary_tap_support.testing)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from tap_ga4.tap import TapGA4
from tributary_tap_support.testing import Messages, run_cli, select_all, sync_lines

__all__ = ["Output", "cli", "run_tap", "select_all"]


class Output(Messages):
    def __init__(self, lines: list[str], error: BaseException | None = None) -> None:
        super().__init__(lines)
        self.error = error

    @property
    def state(self) -> dict | None:
        states = self.states()
        return states[-1] if states else None

    def bookmark(self, stream: str, property_id: str) -> str | None:
        for part in ((self.state or {}).get("bookmarks", {}).get(stream, {}).get("partitions") or []):
            if part["context"].get("property_id") == property_id:
                return part.get("replication_key_value")
        return None


def run_tap(config: dict, only: set[str] | None = None, state: dict | None = None,
            tap_out: list | None = None, raise_errors: bool = True, catalog: dict | None = None) -> Output:
    """Discover (unless given a catalog), select (all, or `only`), sync; in-process so tests can
    patch and inspect."""
    catalog = select_all(catalog or TapGA4(config=config).catalog_dict, only)
    tap = TapGA4(config=config, catalog=catalog, state=state or {})
    lines, error = sync_lines(tap, tap_out, raise_errors)
    return Output(lines, error)


def cli(args: list[str], config: dict, tmp: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli("tap-ga4", args, config, tmp, stdin, timeout=300)
