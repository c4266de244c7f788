"""Add a source to Tributary from the template in extract/_template/ (guide: extract/ADDING-A-SOURCE.md).

    .venv/bin/python extract/new_source.py acme [--title Acme]

creates, for a source named `acme`:
    extract/tap-acme/                                        the Singer SDK tap, with its own tests
                                                             (on extract/tap-support, like our taps)
    extract/sandbox/tributary_sandbox/vendors/acme/          its API simulated in the sandbox, laid
                                                             out like the other four vendors'
    transform/models/staging/acme/                           sources, staging model, dbt tests
    bench/acme_tap.py                                        its benchmark against a bare-loop ceiling
and adds its Meltano entries: the extractor (extract/extractors.meltano.yml), its dev settings
pointing at the sandbox (meltano.yml), the dbt command build_acme its job runs
(transform/transformers.meltano.yml), the job `acme` and schedule `acme-daily`
(orchestrate/jobs.meltano.yml); and its token in .env.example. Nothing else lists sources: the
Makefile finds the tap (its suite joins `make test`, its benchmark `make bench`), the sandbox its
simulator, dbt its models, and operations its job (only bench/end_to_end.py, a fixed mix of the
four original sources, leaves it out).

Nothing is written unless everything can be: a name already used anywhere (a folder, an extractor,
a job, a schedule, a dbt command) is refused with what uses it, and running it twice changes nothing
the second time. The YAML files are edited through a round-trip parser (ruamel.yaml, which Meltano
itself uses), so their comments and layout stay as they are.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT_ROOT / "extract" / "_template"
ENTRIES = TEMPLATE / "meltano-entries.yml"
# The template's files mirror the project's layout under these folders.
TEMPLATE_TREES = ("extract", "transform", "bench")

# One lower-case word: it becomes a folder, a Python package (tap_<name>), an environment variable
# prefix (TAP_<NAME>_), a dbt source and schema (raw_<name>) and a URL segment in the sandbox.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,29}$")
# Names the project already gives a meaning to, beyond the existing sources (found below).
RESERVED = {"sandbox", "template", "raw", "staging", "intermediate", "marts", "analytics", "identity",
            "cross", "transform", "seed", "dbt", "meltano", "tap", "target", "v1", "v2", "v3", "oauth2"}



class Refused(Exception):
    """The source cannot be added as asked; the message says why and what to do."""


def yaml():
    try:
        from ruamel.yaml import YAML
    except ImportError:
        raise Refused("ruamel.yaml is missing: run this with the project's Python (.venv/bin/python, "
                      "after `make install`)") from None
    parser = YAML()
    parser.preserve_quotes = True
    parser.width = 4096                                   # never re-wrap a long line
    parser.indent(mapping=2, sequence=4, offset=2)        # the project's YAML layout
    return parser


def render(text: str, name: str, title: str) -> str:
    return text.replace("__source__", name).replace("__Source__", title).replace("__SOURCE__", name.upper())


# -- the files ---------------------------------------------------------------------------------------
def planned_files(root: Path, name: str, title: str) -> dict[Path, str]:
    """Every file the template makes: project path → content."""
    files = {}
    for tree in TEMPLATE_TREES:
        for source in sorted((TEMPLATE / tree).rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts or source.suffix == ".pyc":
                continue
            relative = render(str(source.relative_to(TEMPLATE)), name, title)
            files[root / relative] = render(source.read_text(), name, title)
    return files


def file_conflicts(root: Path, name: str, files: dict[Path, str]) -> list[str]:
    """Folders of the source that exist already, then any other file the template would overwrite."""
    folders = [root / "extract" / f"tap-{name}", root / "transform" / "models" / "staging" / name,
               root / "transform" / "models" / "marts" / name,
               root / "extract" / "sandbox" / "tributary_sandbox" / "vendors" / name]
    conflicts = [f"{folder.relative_to(root)}/ already exists" for folder in folders if folder.exists()]
    for path in files:
        if path.exists() and not any(folder in path.parents for folder in folders):
            conflicts.append(f"{path.relative_to(root)} already exists")
    return conflicts


# -- the Meltano entries ----------------------------------------------------------------------------
class MeltanoFiles:
    """The project's Meltano YAML files, parsed once, edited in memory, written together."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.parser = yaml()
        self.docs: dict[str, object] = {}

    def doc(self, relative: str):
        if relative not in self.docs:
            path = self.root / relative
            if not path.exists():
                raise Refused(f"{relative} is missing: run this from a Tributary checkout")
            self.docs[relative] = self.parser.load(path.read_text())
        return self.docs[relative]

    def dump(self, relative: str) -> str:
        out = io.StringIO()
        self.parser.dump(self.docs[relative], out)
        return out.getvalue()

    # where each entry goes
    def extractors(self):
        return self.doc("extract/extractors.meltano.yml")["plugins"]["extractors"]

    def dev_extractors(self):
        environments = self.doc("meltano.yml")["environments"]
        dev = next((env for env in environments if env["name"] == "dev"), None)
        if dev is None:
            raise Refused("meltano.yml has no `dev` environment to point the new extractor at the sandbox")
        return dev.setdefault("config", {}).setdefault("plugins", {}).setdefault("extractors", [])

    def dbt_commands(self):
        transformers = self.doc("transform/transformers.meltano.yml")["plugins"]["transformers"]
        dbt = next((plugin for plugin in transformers if plugin["name"] == "dbt"), None)
        if dbt is None:
            raise Refused("transform/transformers.meltano.yml has no `dbt` transformer")
        return dbt["commands"]

    def jobs_doc(self):
        return self.doc("orchestrate/jobs.meltano.yml")

    def every_job_and_schedule(self) -> tuple[set[str], set[str]]:
        """Names used by any Meltano file of the project (operations' jobs included)."""
        jobs, schedules = set(), set()
        for path in sorted((self.root / "orchestrate").glob("*.meltano.yml")):
            doc = self.doc(str(path.relative_to(self.root))) or {}
            jobs |= {job["name"] for job in doc.get("jobs") or []}
            schedules |= {schedule["name"] for schedule in doc.get("schedules") or []}
        return jobs, schedules


def entry_conflicts(meltano: MeltanoFiles, entries: dict) -> list[str]:
    conflicts = []
    extractor = entries["extractor"]["name"]
    if any(plugin["name"] == extractor for plugin in meltano.extractors()):
        conflicts.append(f"extractor {extractor} is already in extract/extractors.meltano.yml")
    if any(plugin["name"] == extractor for plugin in meltano.dev_extractors()):
        conflicts.append(f"meltano.yml's dev environment already configures {extractor}")
    taken = [command for command in entries["dbt_commands"] if command in meltano.dbt_commands()]
    if taken:
        conflicts.append(f"dbt command(s) {', '.join(taken)} already in transform/transformers.meltano.yml")
    jobs, schedules = meltano.every_job_and_schedule()
    if entries["job"]["name"] in jobs:
        conflicts.append(f"a job named {entries['job']['name']} already exists (orchestrate/*.meltano.yml)")
    if entries["schedule"]["name"] in schedules:
        conflicts.append(f"a schedule named {entries['schedule']['name']} already exists (orchestrate/*.meltano.yml)")
    return conflicts


def without_comments(node):
    """An entry without the comments around it in meltano-entries.yml (which say where it goes,
    not what it is): the parser would otherwise carry them into the project's files."""
    if hasattr(node, "ca"):
        node.ca.items.clear()
        node.ca.comment = None
    if isinstance(node, dict):
        for value in node.values():
            without_comments(value)
    elif isinstance(node, list):
        for value in node:
            without_comments(value)
    return node


def add_entries(meltano: MeltanoFiles, entries: dict, title: str) -> None:
    for key in ("extractor", "dev_config", "dbt_commands", "job", "schedule"):
        without_comments(entries[key])
    note = f"{title}: made from the source template (extract/ADDING-A-SOURCE.md)."
    extractors = meltano.extractors()
    extractors.append(entries["extractor"])
    extractors.yaml_set_comment_before_after_key(len(extractors) - 1, before=note, indent=4)

    dev = meltano.dev_extractors()
    dev.append(entries["dev_config"])

    commands = meltano.dbt_commands()
    # Beside the other sources' commands: before the cross-source one, if it is there.
    position = list(commands).index("build_cross_source") if "build_cross_source" in commands else len(commands)
    for offset, (command, args) in enumerate(entries["dbt_commands"].items()):
        commands.insert(position + offset, command, args)

    doc = meltano.jobs_doc()
    doc.setdefault("jobs", []).append(entries["job"])
    doc["jobs"].yaml_set_comment_before_after_key(len(doc["jobs"]) - 1, before=note, indent=2)
    doc.setdefault("schedules", []).append(entries["schedule"])


# -- the whole change ---------------------------------------------------------------------------------
def plan(root: Path, name: str, title: str) -> tuple[dict[Path, str], dict[Path, str]]:
    """(files to create, files to change), or Refused naming every conflict."""
    if not NAME_PATTERN.match(name):
        raise Refused(f"{name!r} is not a usable source name: one lower-case word of letters and digits, "
                      "2 to 30 long, starting with a letter (e.g. acme, hubspot, xero2)")
    if name in RESERVED:
        raise Refused(f"{name!r} already means something in this project; pick another name")
    if not re.match(r"^[A-Z][A-Za-z0-9]*$", title):
        raise Refused(f"--title {title!r} must be a word starting with a capital letter (it names Python classes)")

    files = planned_files(root, name, title)
    conflicts = file_conflicts(root, name, files)

    parser = yaml()
    entries = parser.load(render(ENTRIES.read_text(), name, title))
    meltano = MeltanoFiles(root)
    conflicts += entry_conflicts(meltano, entries)
    if conflicts:
        raise Refused(f"source {name!r} exists already, nothing was changed:\n  - " + "\n  - ".join(conflicts))

    add_entries(meltano, entries, title)
    changes = {root / relative: meltano.dump(relative) for relative in meltano.docs
               if relative in ("extract/extractors.meltano.yml", "meltano.yml",
                               "transform/transformers.meltano.yml", "orchestrate/jobs.meltano.yml")}
    for path, text in changes.items():   # what we write must parse back: never leave a broken file
        parser.load(text)
    env_example = root / ".env.example"
    if env_example.exists():
        changes[env_example] = env_example.read_text().rstrip("\n") + "\n" + entries["env_example"]
    return files, changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Add a source to Tributary from extract/_template/.")
    parser.add_argument("name", help="the source's name: one lower-case word, e.g. acme")
    parser.add_argument("--title", help="how the name is written in prose and class names (default: Acme)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.project_dir.resolve()
    title = args.title or args.name[:1].upper() + args.name[1:]
    try:
        files, changes = plan(root, args.name, title)
    except Refused as refusal:
        print(f"new_source: {refusal}", file=sys.stderr)
        return 2
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path, text in changes.items():
        path.write_text(text)

    name = args.name
    print(f"Source {name!r} added from the template.\n\nCreated:")
    for folder in (f"extract/tap-{name}/", f"extract/sandbox/tributary_sandbox/vendors/{name}/",
                   f"transform/models/staging/{name}/", f"bench/{name}_tap.py"):
        print(f"  {folder}")
    print("Changed:")
    for path in changes:
        print(f"  {path.relative_to(root)}")
    print(f"""
Next:
  make install                          # installs tap-{name} (and its test extras in .venv)
  make sandbox-stop sandbox-start       # the sandbox now serves /{name}/v1 too
  .venv/bin/meltano run {name}              # extract, load, dbt build of its models
  cd extract/tap-{name} && ../../.venv/bin/python -m pytest   # the tap's own tests
Then make it talk to the real API: extract/ADDING-A-SOURCE.md.""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
