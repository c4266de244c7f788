"""The world's anchor date: the day the sandbox first built its world, kept in its state dir.

The world is generated from a seed and a "today" (history ends the day before). Built afresh
from the real date at every start, the vendors' history would shift under a warehouse loaded the
day before: other ids, amounts and dates for the same records, which no real vendor does. So the
first start records its date, seed, scales and mess in <state_dir>/world.json and every later start
builds the same past from them, while the sandbox clock keeps moving with real time; a start that
asks for another seed, scale or mess over that record is refused (cli.py). A `POST /_sandbox/reset` (tests)
builds afresh as of today and records that. `make demo-reset` starts over.

TRIBUTARY_SANDBOX_TODAY=YYYY-MM-DD means "pretend today is": for tests that live through a day
rollover (start "yesterday", restart "today"). It sets both the date a new world is built as of
and the sandbox clock's date.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

PRETEND_TODAY_VARIABLE = "TRIBUTARY_SANDBOX_TODAY"
ANCHOR_FILE = "world.json"


def real_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def pretend_today() -> dt.date:
    """TRIBUTARY_SANDBOX_TODAY if set, else today's UTC date."""
    value = os.environ.get(PRETEND_TODAY_VARIABLE, "").strip()
    if not value:
        return real_today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{PRETEND_TODAY_VARIABLE} must be YYYY-MM-DD, got {value!r}") from None


def clock_offset() -> dt.timedelta:
    """How far the sandbox clock runs from real time: whole days, to the pretended date."""
    return pretend_today() - real_today()


def recorded(state_dir: Path | str | None) -> dt.date | None:
    """The date the world in this state dir was built as of, if one was recorded."""
    if state_dir is None:
        return None
    try:
        return dt.date.fromisoformat(json.loads((Path(state_dir) / ANCHOR_FILE).read_text())["today"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recorded_world(state_dir: Path | str | None) -> dict | None:
    """The seed, scale, per-source scales and mess the world in this state dir was built with, if
    recorded (a record from before source scales or mess were kept means none)."""
    if recorded(state_dir) is None:
        return None
    try:
        data = json.loads((Path(state_dir) / ANCHOR_FILE).read_text())
        return {"seed": int(data["seed"]), "scale": float(data["scale"]),
                "source_scales": {k: float(v) for k, v in (data.get("source_scales") or {}).items()},
                "mess": str(data.get("mess") or "none")}
    except (OSError, KeyError, TypeError, ValueError, AttributeError):
        return None


def record(state_dir: Path | str | None, today: dt.date, seed: int, scale: float,
           source_scales: dict[str, float] | None = None, mess: str = "none") -> None:
    if state_dir is None:
        return
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed over: a crash mid-write never leaves a record that names no world
    partial = Path(state_dir) / (ANCHOR_FILE + ".partial")
    partial.write_text(json.dumps(
        {"today": today.isoformat(), "seed": seed, "scale": scale, "source_scales": source_scales or {}, "mess": mess,
         "why": "the sandbox rebuilds this same world on every start; `make demo-reset` starts afresh"},
        indent=1) + "\n")
    os.replace(partial, Path(state_dir) / ANCHOR_FILE)
