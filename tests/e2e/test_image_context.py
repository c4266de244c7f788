"""The production image, built without a Docker daemon (none runs here).

The build context is made the way `docker build` makes it: the Dockerfile's COPY lines applied to
this checkout, minus what .dockerignore leaves out, copied into a temporary folder. There the
Dockerfile's own install step (its RUN line: `make install-prod`) runs with the system Python,
installing Meltano and every plugin afresh; then one source's job runs from that folder against
the test stack and lands what the sandbox holds. So the image has everything `make install` and
a pipeline need (dbt's wrapper, the seeds: both once missing), and nothing of the sandbox or the
tests. Every plugin is installed afresh (about 45 s here, from the package caches a first
install filled).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from this_worker import PROJECT_ROOT
from truth import assert_warehouse_matches_truth

# ---- the Dockerfile and .dockerignore, read as docker reads them ----------------------------------
def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, continued lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def ignore_patterns(dockerignore: Path) -> list[tuple[bool, re.Pattern]]:
    """(is an exception "!", pattern) in order: the last pattern matching a path decides."""
    patterns = []
    for line in dockerignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        glob = line.lstrip("!").strip().strip("/")
        # Go's filepath.Match with docker's "**": * and ? never cross a "/", ** crosses any number
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", glob):
            if part in ("**", "**/"):
                regex += "(?:.*/)?" if part == "**/" else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        patterns.append((keep, re.compile(regex + r"\Z")))
    return patterns


def ignored(path: str, patterns: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether the context leaves `path` out: a pattern matching the path or any folder above it."""
    verdict = False
    prefixes = [path[:i] for i in range(len(path)) if path[i] == "/"] + [path]
    for keep, pattern in patterns:
        if any(pattern.match(prefix) for prefix in prefixes):
            verdict = not keep
    return verdict


def build_context(checkout: Path, destination: Path) -> list[str]:
    """The Dockerfile's COPY lines into `destination`, as docker copies them; the RUN commands that
    follow them (those before the first COPY set up the base system: make and cron, which this
    machine has)."""
    patterns = ignore_patterns(checkout / ".dockerignore")
    exceptions_below = [p.pattern for keep, p in patterns if keep]
    runs, copied = [], False
    for keyword, arguments in instructions(checkout / "Dockerfile"):
        if keyword == "RUN" and copied:
            runs.append(arguments)
        if keyword != "COPY":
            continue
        copied = True
        *sources, target = shlex.split(arguments)
        assert not any(s.startswith("--") for s in sources), "COPY flags are not modelled here"
        for source in sources:
            origin = checkout / source
            assert origin.exists(), f"the Dockerfile copies {source}, which this checkout lacks"
            if origin.is_file():
                if not ignored(source, patterns):
                    into = destination / target / origin.name if target.endswith("/") else destination / target
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, into)
                continue
            for folder, subfolders, files in os.walk(origin):
                relative = Path(folder).relative_to(checkout).as_posix()
                # a folder left out is not walked, unless an exception ("!") may take something back below it
                subfolders[:] = [d for d in subfolders
                                 if not ignored(f"{relative}/{d}", patterns)
                                 or any(e.startswith(re.escape(f"{relative}/{d}/")) for e in exceptions_below)]
                for name in files:
                    path = f"{relative}/{name}"
                    if ignored(path, patterns):
                        continue
                    into = destination / target / Path(path).relative_to(source)
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(checkout / path, into)
    return runs


# ---- the tests --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def image(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("image") / "project"
    runs = build_context(PROJECT_ROOT, root)
    return root, runs


def test_the_context_holds_what_the_install_needs_and_nothing_of_development(image):
    root, runs = image
    for needed in ("Makefile", "meltano.yml", "requirements.txt", "plugins/loaders/target-postgres--meltanolabs.lock",
                   "transform/dbt-wrapper/pyproject.toml",
                   "load/target-postgres-wrapper/pyproject.toml", "extract/tap-support/pyproject.toml",
                   "extract/quickbooks/catalog.json", "orchestrate/entrypoint.sh",
                   "orchestrate/dagster/definitions.py", "transform/dbt_project.yml"):
        assert (root / needed).is_file(), f"the image lacks {needed}"
    assert list((root / "transform" / "seeds").glob("*.csv")), "the image lacks dbt's seeds"
    for left_out in ("extract/sandbox", "extract/_template", "extract/tap-attio/tests", "tests", "bench",
                     ".venv", ".meltano", ".env", "transform/target", "requirements-dev.txt"):
        assert not (root / left_out).exists(), f"the image holds {left_out}"
    assert not list(root.rglob("__pycache__")) and not list(root.rglob("*.egg-info"))
    assert any("make install-prod" in run for run in runs), runs


@pytest.fixture(scope="module")
def installed(image) -> Path:
    """The Dockerfile's RUN lines in the context, with the system Python as the image has its own,
    and no Meltano Hub to ask (the lock files in plugins/ must be enough)."""
    root, runs = image
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if not p.startswith(str(PROJECT_ROOT)))   # not the project's .venv
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "VIRTUAL_ENV", "PYTHON"))}
    env["MELTANO_HUB_URL"] = "http://127.0.0.1:9/no-hub"   # nothing listens there
    for run in runs:
        done = subprocess.run(["sh", "-c", run], cwd=root, env={**env, "PATH": path}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=2400)
        assert done.returncode == 0, done.stdout[-4000:]
    return root


def test_the_install_brings_meltano_and_every_plugin_and_no_test_tool(installed):
    python = installed / ".venv" / "bin" / "python"
    for module in ("meltano", "psycopg"):
        assert subprocess.run([python, "-c", f"import {module}"]).returncode == 0, module
    for module in ("tributary_sandbox", "pytest", "pgserver"):
        assert subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode != 0, module
    for plugin in ("extractors/tap-quickbooks", "extractors/tap-attio", "extractors/tap-ga4", "extractors/tap-shopify",
                   "loaders/target-postgres", "transformers/dbt-postgres", "utilities/dagster"):
        assert (installed / ".meltano" / plugin / "venv" / "bin").is_dir(), plugin
    # the operations targets stay on the production install (the image has no requirements-dev.txt)
    planned = subprocess.run(["make", "-n", "transform", "full"], cwd=installed, capture_output=True, text=True)
    assert planned.returncode == 0 and "requirements-dev" not in planned.stdout, planned.stdout + planned.stderr


def test_a_job_runs_from_the_image_against_the_stack(installed, stack):
    """`meltano run attio` (tap, loader, dbt) from the image's folder, with its own plugins."""
    stack.reset()
    env = {k: v for k, v in stack.env.items() if k != "MELTANO_SYS_DIR_ROOT"}   # the image's .meltano
    env["MELTANO_DATABASE_URI"] = f"sqlite:///{installed / 'meltano-state.db'}"
    done = subprocess.run([installed / ".venv" / "bin" / "meltano", "run", "attio"], cwd=installed, env=env,
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:]
    assert_warehouse_matches_truth("attio")
    assert stack.scalar("select count(*) from marts.attio__deal_pipeline") == \
        stack.sandbox("GET", "/_sandbox/attio/counts")["deals"]
