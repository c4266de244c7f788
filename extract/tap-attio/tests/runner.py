"""Run tap-attio in-process or through its CLI and collect its Singer messages (the helpers
every tap's suite shares are in tributary_tap_support.testing)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from tap_attio.tap import TapAttio
from tributary_tap_support.testing import Messages, run_cli, select_all, sync_lines

__all__ = ["Output", "cli", "run_tap", "select_all"]


class Output(Messages):
    def types(self, stream: str) -> list[str]:
        return [m["type"] for m in self.messages if m.get("stream") == stream]


def run_tap(config: dict, only: set[str] | None = None, tap_out: list | None = None) -> Output:
    """Discover, select (all, or `only`), sync; in-process so tests can patch and inspect."""
    catalog = select_all(TapAttio(config=config).catalog_dict, only)
    tap = TapAttio(config=config, catalog=catalog)
    lines, _ = sync_lines(tap, tap_out)
    return Output(lines)


def cli(args: list[str], config: dict, tmp: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli("tap-attio", args, config, tmp, stdin, timeout=300)
