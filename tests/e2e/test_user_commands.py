"""The commands the README gives users work verbatim in the default (dev) environment."""

from __future__ import annotations

import json
import re
import subprocess

from this_worker import BIN, PROJECT_ROOT


SCALE = 0.2  # a small world: the command is under test, not the volume


def test_the_readme_pipeline_command_works_verbatim(stack):
    stack.reset(scale=SCALE)
    # dbt:run models every source and the cross-source layer (which reads a seed), so the other
    # three sources and the seed are loaded first, as `make demo` leaves them
    others = stack.meltano("run", "tap-attio", "target-postgres", "tap-ga4", "target-postgres",
                           "tap-shopify", "target-postgres", "dbt:seed")
    assert others.ok, others.output[-4000:]
    result = stack.meltano("run", "tap-quickbooks", "target-postgres", "dbt:run")
    assert result.ok, result.output[-4000:]
    assert stack.scalar("select count(*) from marts.quickbooks__invoices") > 0
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") > 0
    assert stack.scalar("select count(*) from marts.customer_360") > 0


def test_every_source_has_a_schedule(stack):
    listed = subprocess.run([str(BIN / "meltano"), "schedule", "list", "--format=json"], cwd=PROJECT_ROOT,
                            env=stack.env, capture_output=True, text=True, check=True)
    jobs = {schedule["name"]: schedule for schedule in json.loads(listed.stdout)["schedules"]["job"]}
    assert jobs["quickbooks-daily"]["interval"] == "@daily"
    assert jobs["attio-hourly"]["interval"] == "@hourly"


def test_dbt_runs_its_queries_without_postgresqls_jit(stack):
    """dbt's role runs without JIT (load/roles.py: compiling the identity models' plans cost more
    than running them), set in the server, so it holds through a connection pooler too."""
    shown = stack.meltano("invoke", "dbt", "show", "--inline", "select current_setting('jit') as jit_setting")
    assert shown.ok, shown.output[-3000:]
    # dbt show prints the row as a table: | jit_setting | ... | off |
    assert re.findall(r"\|\s*(on|off)\s*\|", shown.output.split("jit_setting")[-1]) == ["off"], shown.output[-2000:]
