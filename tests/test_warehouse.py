"""The local warehouse starts from the pgserver wheel's binaries where the system has none."""

from __future__ import annotations

import importlib
import shutil
import sys
import threading
from pathlib import Path

import psycopg

from this_worker import RUN_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "load"))


def test_warehouse_falls_back_to_the_pgserver_binaries(monkeypatch):
    # Under the worker's run folder: as root, the server user cannot reach pytest's 0700 tmp_path
    warehouse_dir = RUN_DIR / "pgserver-warehouse"
    shutil.rmtree(warehouse_dir, ignore_errors=True)
    monkeypatch.setenv("WAREHOUSE_DIR", str(warehouse_dir))
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
    shutil.rmtree(warehouse_dir, ignore_errors=True)


def test_warehouses_starting_at_once_each_see_a_whole_binaries_copy_or_none(tmp_path):
    """Three test workers on a new machine, as root, each copy pgserver's binaries where the server
    user can reach them: one copy wins, none is half written, no start fails."""
    import warehouse

    site = tmp_path / "site"
    for index in range(200):
        (site / "pgserver" / "pginstall" / "lib" / f"part{index}.so").parent.mkdir(parents=True, exist_ok=True)
        (site / "pgserver" / "pginstall" / "lib" / f"part{index}.so").write_bytes(b"x" * 10_000)
    (site / "pgserver" / "pginstall" / "bin").mkdir()
    (site / "pgserver" / "pginstall" / "bin" / "pg_ctl").write_text("#!/bin/sh\n")
    (site / "pgserver.libs").mkdir()
    (site / "pgserver.libs" / "libpq.so").write_text("lib")
    copy, errors = tmp_path / "copy", []

    def start() -> None:
        try:
            warehouse._copy_whole(site, copy)
            assert len(list((copy / "pgserver" / "pginstall" / "lib").iterdir())) == 200
        except Exception as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)
    starts = [threading.Thread(target=start) for _ in range(3)]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join()
    assert errors == []
    assert (copy / "pgserver" / "pginstall" / "bin" / "pg_ctl").exists() and (copy / "pgserver.libs" / "libpq.so").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy", "site"]  # no partial copy left behind
