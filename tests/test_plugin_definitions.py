"""The plugins' definitions as Meltano reads them: Hub plugins from the lock files in plugins/, with
no Hub to ask (none is reachable where this project is installed), each setting listed once with
a description, our changes on top."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from this_worker import PROJECT_ROOT

MELTANO = PROJECT_ROOT / ".venv" / "bin" / "meltano"
NO_HUB = "http://127.0.0.1:9/no-hub"   # nothing listens on port 9: any Hub request fails at once


def meltano(*args: str) -> str:
    env = {**os.environ, "MELTANO_HUB_URL": NO_HUB, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
           "MELTANO_ENVIRONMENT": "dev"}
    done = subprocess.run([str(MELTANO), *args], cwd=PROJECT_ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    return done.stdout


def project_plugins() -> list[tuple[str, dict]]:
    found = []
    for path in [PROJECT_ROOT / "meltano.yml", *PROJECT_ROOT.glob("*/*.meltano.yml")]:
        for plugin_type, plugins in (yaml.safe_load(path.read_text()) or {}).get("plugins", {}).items():
            found += [(plugin_type, plugin) for plugin in plugins]
    return found


def test_every_hub_plugin_has_its_lock_file_and_every_lock_file_a_plugin():
    locked = {(p.parent.name, p.name) for p in (PROJECT_ROOT / "plugins").glob("*/*.lock")}
    wanted = {(plugin_type, f"{plugin['name']}--{plugin['variant']}.lock")
              for plugin_type, plugin in project_plugins() if plugin.get("variant")}
    assert wanted and wanted == locked
    for plugin_type, name in locked:
        lock = json.loads((PROJECT_ROOT / "plugins" / plugin_type / name).read_text())
        assert (lock["plugin_type"], f"{lock['name']}--{lock['variant']}.lock") == (plugin_type, name)


def test_the_loader_lists_each_setting_once_with_a_description_without_the_hub():
    listed = meltano("config", "list", "target-postgres", "--all")
    names = re.findall(r"^(\S+) \[env: ", listed, re.M)
    assert len(names) == len(set(names)) > 20, names        # the Hub's settings, each once
    for ours in ("max_deletion_share", "batch_size_rows", "validate_records", "host"):
        assert ours in names
    blocks = re.split(r"^\S+ \[env: [^\n]*\n", listed, flags=re.M)[1:]
    assert all(block.strip() for block in blocks), "a setting without a description"
    # our description wins over the Hub's where we say more (what the project does with it)
    assert "COPY" in listed.split("batch_size_rows [env:")[1].split("\n")[1]


def test_dbt_lists_the_hubs_settings_once_and_hands_them_to_the_profile():
    listed = meltano("config", "list", "dbt", "--all")
    names = re.findall(r"^(\S+) \[env: ", listed, re.M)
    assert len(names) == len(set(names))
    assert {"host", "port", "user", "password", "dbname", "schema", "sslmode", "profiles_dir"} <= set(names)
    profile = (PROJECT_ROOT / "transform" / "profiles" / "profiles.yml").read_text()
    for name in ("host", "port", "user", "password", "dbname", "schema", "sslmode", "keepalives_idle", "role",
                 "search_path"):
        assert f"env_var('DBT_{name.upper()}'" in profile, f"profiles.yml ignores the dbt setting {name}"
    printed = meltano("invoke", "--print-var", "DBT_HOST", "--print-var", "DBT_DBNAME", "--print-var",
                      "DBT_PROFILES_DIR", "dbt", "--version")
    assert "DBT_HOST=127.0.0.1" in printed and "DBT_DBNAME=warehouse" in printed
    assert f"DBT_PROFILES_DIR={PROJECT_ROOT / 'transform' / 'profiles'}" in printed


def test_our_settings_stay_text_so_a_bad_number_names_the_setting():
    """The Hub types batch_size_rows and port as integers; ours are untyped, so Meltano hands the
    wrapper the text and the wrapper names the setting (TARGET_POSTGRES_PORT=five in
    tests/e2e/test_bad_config.py) instead of Meltano failing in a traceback of its own."""
    printed = subprocess.run([str(MELTANO), "config", "print", "target-postgres"], cwd=PROJECT_ROOT,
                             env={**os.environ, "MELTANO_HUB_URL": NO_HUB, "MELTANO_ENVIRONMENT": "dev",
                                  "TARGET_POSTGRES_BATCH_SIZE_ROWS": "many", "TARGET_POSTGRES_PORT": "five"},
                             text=True, capture_output=True, timeout=300)
    assert printed.returncode == 0, printed.stderr[-2000:]
    config = json.loads(printed.stdout[printed.stdout.index("{"):])
    assert (config["batch_size_rows"], config["port"]) == ("many", "five")
