"""What a newcomer does past `make demo`, on the test stack: a demo of another seed and scale,
`make stop`, later `make sandbox-start` with no variable, a job run again. The sandbox serves the
recorded world, so the incremental run over the first world's warehouse passes every test of its
job and the warehouse equals the sandbox's truth; asking for another world over it is one line
naming `make demo-reset`. (The port a newcomer finds taken: tests/test_port_advice.py; the older
entry point's `dbt` mode: tests/test_orchestrate.py.)"""

from __future__ import annotations

import subprocess

import pytest

from this_worker import BIN, PROJECT_ROOT, RUN_DIR
from truth import assert_warehouse_matches_truth

pytestmark = pytest.mark.slow  # a second world built and loaded: 80 s (test budget; make test-slow)

SEED, SCALE = 1234, 0.05  # not the defaults (42, 1.0), which a forgetful restart would build


def sandbox_cli(stack, action: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "-m", "tributary_sandbox", action], cwd=PROJECT_ROOT,
                          env={**stack.env, **env}, capture_output=True, text=True, timeout=180)


def test_a_demo_of_another_seed_restarted_with_no_variable_serves_its_world(stack):
    stack.reset(scale=stack.start_scale)  # an empty warehouse, no Meltano state
    anchor_file = RUN_DIR / "sandbox" / "world.json"
    try:
        # `SANDBOX_SEED=1234 SANDBOX_SCALE=0.05 make demo` on a fresh checkout
        anchor_file.unlink(missing_ok=True)
        sandbox_cli(stack, "stop")
        started = sandbox_cli(stack, "start", SANDBOX_SEED=str(SEED), SANDBOX_SCALE=str(SCALE))
        assert started.returncode == 0, started.stderr
        first = stack.meltano("run", "quickbooks")
        assert first.ok, first.output[-4000:]

        # `make stop`, later `make sandbox-start` with no variable
        sandbox_cli(stack, "stop")
        again = sandbox_cli(stack, "start")
        assert again.returncode == 0, again.stderr
        health = stack.sandbox("GET", "/_sandbox/health")
        assert (health["seed"], health["scale"]) == (SEED, SCALE), health
        stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 3, "new": 2, "updated": 2, "deleted": 1})
        second = stack.meltano("run", "quickbooks")  # the job's dbt tests included
        assert second.ok, second.output[-4000:]
        assert_warehouse_matches_truth("quickbooks")

        # another world over this one: refused, naming the way out; the running sandbox untouched
        sandbox_cli(stack, "stop")
        refused = sandbox_cli(stack, "start", SANDBOX_SEED="42")
        assert refused.returncode == 2 and "make demo-reset" in refused.stderr and "SANDBOX_SEED" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    finally:
        # The rest of the session gets a sandbox built afresh, at the stack's own size.
        anchor_file.unlink(missing_ok=True)
        sandbox_cli(stack, "stop")
        sandbox_cli(stack, "start", SANDBOX_SCALE=str(stack.start_scale))
