"""The local warehouse starts from the pgserver wheel's binaries where the system has none."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "load"))


def test_warehouse_falls_back_to_the_pgserver_binaries(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("WAREHOUSE_PORT", "55443")
    warehouse = importlib.reload(importlib.import_module("warehouse"))
    real_glob = warehouse.glob.glob
    monkeypatch.setattr(warehouse.glob, "glob", lambda pattern: [] if "postgresql" in pattern else real_glob(pattern))
    assert "pgserver" in str(warehouse.find_binaries())
    warehouse.start()
    try:
        with psycopg.connect(host="127.0.0.1", port=55443, user="tributary", password="tributary-dev",
                             dbname="warehouse") as conn:
            assert conn.execute("select current_setting('server_version_num')::int").fetchone()[0] >= 160000
        warehouse.start()  # a second start is a no-op, not an error
    finally:
        warehouse.stop()
    assert not warehouse.is_running()
