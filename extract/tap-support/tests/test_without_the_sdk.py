"""The modules the other plugins' venvs use import without singer_sdk (it is no dependency here)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WITHOUT_SDK = ("settings", "names", "retry", "testing")


def test_these_modules_import_where_singer_sdk_is_not_installed():
    code = ("import sys; sys.modules['singer_sdk'] = None; sys.modules['msgspec'] = None\n"
            + "".join(f"import tributary_tap_support.{name}\n" for name in WITHOUT_SDK))
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
