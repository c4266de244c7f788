"""Run tap-__source__ in-process or through its CLI and collect its Singer messages (the helpers
every tap's suite shares are in tributary_tap_support.testing)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from tap___source__.tap import Tap__Source__
from tributary_tap_support.testing import Messages, run_cli, select_all, sync_lines

__all__ = ["Output", "cli", "run_tap", "select_all"]


class Output(Messages):
    """Messages.states() lists every STATE the tap sent."""


def run_tap(config: dict, only: set[str] | None = None, state: dict | None = None,
            tap_out: list | None = None) -> Output:
    """Discover, select (all, or `only`), sync; in-process so tests can patch and inspect."""
    catalog = select_all(Tap__Source__(config=config).catalog_dict, only)
    tap = Tap__Source__(config=config, catalog=catalog, state=state)
    lines, _ = sync_lines(tap, tap_out)
    return Output(lines)


def cli(args: list[str], config: dict, tmp: Path) -> subprocess.CompletedProcess:
    return run_cli("tap-__source__", args, config, tmp, timeout=120, module="tap___source__.tap")
