"""Write a Meltano lock file from a Meltano Hub plugin definition, as `meltano lock` would.

    .venv/bin/python plugins/lock_from_hub.py HUB_YAML PLUGIN_TYPE

HUB_YAML is a variant's definition from the Hub's public repository (github.com/meltano/hub,
`_data/meltano/<plugin type>/<name>/<variant>.yml`); PLUGIN_TYPE its folder there (`loaders`,
`transformers`, …). The lock file goes to plugins/<type>/<name>--<variant>.lock, the path and
format Meltano reads (its own StandalonePlugin, so the JSON is what `meltano lock` writes). With the
lock files committed, `meltano install` never asks the Hub: this project is installed where the
Hub cannot be reached. Run it again when a plugin's Hub definition changes (plugins/README.md).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from meltano.core.plugin.base import StandalonePlugin

PLUGINS = Path(__file__).resolve().parent
# What a plugin is (Meltano's locked fields, and the extras Meltano reads: a loader's dialect and
# target schema); the Hub's page text (keywords, quality, usage, …) is not.
LOCKED_FIELDS = ("name", "namespace", "variant", "label", "docs", "repo", "pip_url", "executable",
                 "description", "logo_url", "capabilities", "settings_group_validation", "settings",
                 "commands", "requires", "requires_meltano", "env", "supported_python_versions", "ext_repo",
                 "dialect", "target_schema", "select", "metadata", "update")
HUB = "https://hub.meltano.com"


def lock(hub_yaml: Path, plugin_type: str) -> Path:
    definition = yaml.safe_load(hub_yaml.read_text())
    fields = {key: value for key, value in definition.items() if key in LOCKED_FIELDS}
    # The Hub's own pages are each definition's docs when it names none (as the Hub's API does)
    fields.setdefault("docs", f"{HUB}/{plugin_type}/{fields['name']}--{fields['variant']}")
    if str(fields.get("logo_url", "")).startswith("/"):   # the Hub's API serves it absolute
        fields["logo_url"] = HUB + fields["logo_url"]
    plugin = StandalonePlugin(plugin_type=plugin_type, **fields)
    path = PLUGINS / plugin_type / f"{plugin.name}--{plugin.variant}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plugin.canonical(), indent=2) + "\n")
    return path


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(lock(Path(sys.argv[1]), sys.argv[2]).relative_to(PLUGINS.parent))
