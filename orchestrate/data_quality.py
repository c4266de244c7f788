"""Check the warehouse and write a report a person reads; exit 1 when something needs attention.

    python orchestrate/data_quality.py      # or: meltano run data-quality

1. `dbt source freshness`: how old each source's newest load is, against its warn/error limits.
2. `dbt test`: every test.
   Several businesses (TRIBUTARY_<SOURCE>_SCHEMAS): freshness and the tests on the raw tables read
   a source's default schema, so both run again for each other instance's schema, and the report
   names it: `shopify (raw_shopify_acme)`. A business that stops loading is stale on its own. For each failing one, its compiled query (run_results.json) is run
   again to show a few of the rows it returned. (Not `--store-failures`: a test whose query
   selects two columns of one name, like `select mart.*, staged.*`, cannot be stored as a table.)
3. The report, output/data-quality/<timestamp>.md (and latest.md): freshness per source, failing
   tests with sample rows, and the reconciliations (transform/tests/: marts against staging and
   raw) with their differences.

Something needs attention when a source is stale (warn or error) or never loaded, or a test fails,
errors or warns. A table that was loaded but holds no rows (an Attio list with no entries) is
`empty`, not stale: its source has nothing to send, and the table's age says nothing. It is
listed in the report and needs no attention.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import project

REPORT_DIR = project.OUTPUT_DIR / "data-quality"
SAMPLE_ROWS = 5
FRESHNESS_BAD = {"warn", "error", "runtime error"}
TEST_BAD = {"fail", "error", "warn"}
RANK = {"pass": 0, "warn": 1, "error": 2, "runtime error": 3}
# dbt's max_loaded_at for a table with no rows (max() of nothing is null; dbt reads that as the
# year 1 and calls the table millennia old). The table exists: the loader made it when the tap
# sent the stream, which then had no records.
NO_ROWS_LOADED_AT = "0001-01-01"


def is_empty(result: dict) -> bool:
    return str(result.get("max_loaded_at") or "").startswith(NO_ROWS_LOADED_AT)


def target_dir() -> Path:
    return project.PROJECT_ROOT / "transform" / os.environ.get("DBT_TARGET_PATH", "target")


def invoke_dbt(*args: str, log) -> int:
    log.write(f"\n$ meltano invoke dbt {' '.join(args)}\n")
    log.flush()
    return subprocess.run([project.meltano_executable(), "invoke", "dbt", *args], cwd=project.PROJECT_ROOT,
                          env=project.meltano_env(), stdin=subprocess.DEVNULL, stdout=log,
                          stderr=subprocess.STDOUT).returncode


OTHER_INSTANCES_LINE = re.compile(r"^other_instance_schemas=(\{.*\})$", re.M)


def other_instance_schemas(sources: list[str], log) -> dict[str, list[str]] | None:
    """Each source's instance schemas beyond its default one, asked of dbt (the macro the models
    use), so the report checks what the models read however the user listed them."""
    args = ["run-operation", "print_other_instance_schemas", "--args", json.dumps({"sources": sources})]
    completed = subprocess.run([project.meltano_executable(), "invoke", "dbt", *args], cwd=project.PROJECT_ROOT,
                               env=project.meltano_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True)
    log.write(f"\n$ meltano invoke dbt {' '.join(args)}\n{completed.stdout}{completed.stderr}")
    found = OTHER_INSTANCES_LINE.search(completed.stdout)
    return json.loads(found[1]) if completed.returncode == 0 and found else None


def instance_rounds(others: dict[str, list[str]]) -> list[dict[str, str]]:
    """The other instances in rounds, one dbt call each: round k holds the k-th other schema of
    every source that has one (two businesses: one round for all four sources)."""
    deepest = max((len(schemas) for schemas in others.values()), default=0)
    return [{source: schemas[k] for source, schemas in others.items() if len(schemas) > k} for k in range(deepest)]


def tested_source(test: dict, manifest: dict | None) -> str | None:
    node = (manifest or {}).get("nodes", {}).get(test["id"], {})
    sources = {parent.split(".")[2] for parent in node.get("depends_on", {}).get("nodes", [])
               if parent.startswith("source.")}
    return sources.pop() if len(sources) == 1 else None


def check_other_instances(freshness: dict[str, dict], tests: list[dict], problems: list[str], log) -> None:
    """Freshness and the raw tables' tests again, for each instance beyond a source's default
    schema; what they find joins the report under `<source> (<schema>)`."""
    others = other_instance_schemas(sorted(freshness), log)
    if others is None:
        problems.append(f"the instances of each source could not be read from dbt; see {log.name}")
        return
    # A target folder of their own: the default one keeps its manifest and its partial parse,
    # which another schema in the vars would make dbt throw away.
    target = target_dir() / "other-instances"
    for schemas in instance_rounds(others):
        selected = ["--select", *(f"source:{source}" for source in schemas), "--target-path", str(target),
                    "--vars", json.dumps({f"{source}_schema": schema for source, schema in schemas.items()})]
        for stale_artifact in ("sources.json", "run_results.json"):
            (target / stale_artifact).unlink(missing_ok=True)
        invoke_dbt("source", "freshness", *selected, log=log)
        found = freshness_by_source(read_json(target / "sources.json"))
        if not found:
            problems.append(f"dbt source freshness produced no results for {', '.join(schemas.values())}; see {log.name}")
        for source, entry in found.items():
            freshness[f"{source} ({schemas[source]})"] = entry
        invoke_dbt("test", *selected, "--indirect-selection", "cautious", log=log)
        manifest = read_json(target / "manifest.json")
        for test in test_results(read_json(target / "run_results.json"), manifest):
            source = tested_source(test, manifest)
            tests.append({**test, "name": f"{test['name']} ({schemas[source]})" if source in schemas else test["name"]})


def warehouse_connection():
    import psycopg  # the project venv has it (requirements.txt)

    completed = subprocess.run([project.meltano_executable(), "config", "--unsafe", "print", "dbt"],
                               cwd=project.PROJECT_ROOT, env=project.meltano_env(), capture_output=True, text=True)
    config = json.loads(completed.stdout)
    return psycopg.connect(host=config["host"], port=config["port"], user=config["user"],
                           password=config["password"], dbname=config["dbname"], connect_timeout=10)


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


# -- what happened ---------------------------------------------------------------------------
def freshness_by_source(sources_json: dict | None) -> dict[str, dict]:
    per_source: dict[str, dict] = {}
    for result in (sources_json or {}).get("results", []):
        _, _, source, table = result["unique_id"].split(".", 3)
        entry = per_source.setdefault(source, {"status": "pass", "tables": [], "oldest": None})
        if is_empty(result):
            entry["tables"].append({"table": table, "status": "empty", "age_s": None, "max_loaded_at": None,
                                    "error": "no rows: the source has none"})
            continue  # neither stale nor fresh: it says nothing of the source's other tables
        status = result["status"]
        if RANK.get(status, 3) > RANK.get(entry["status"], 3):
            entry["status"] = status
        age = result.get("max_loaded_at_time_ago_in_s")
        entry["tables"].append({"table": table, "status": status, "age_s": age,
                                "max_loaded_at": result.get("max_loaded_at"),
                                "error": result.get("error") or (result.get("message") or "")})
        if age is not None and (entry["oldest"] is None or age > entry["oldest"]):
            entry["oldest"] = age
    for entry in per_source.values():
        if all(table["status"] == "empty" for table in entry["tables"]):
            entry["status"] = "empty"
    return per_source


def test_results(run_results: dict | None, manifest: dict | None) -> list[dict]:
    nodes = {**(manifest or {}).get("nodes", {}), **(manifest or {}).get("unit_tests", {})}
    tests = []
    for result in (run_results or {}).get("results", []):
        node = nodes.get(result["unique_id"], {})
        if result["unique_id"].startswith("unit_test."):
            kind = "unit"
        elif node and not node.get("test_metadata"):
            kind = "reconciliation"  # a singular test under transform/tests/
        else:
            kind = "data"
        tests.append({"id": result["unique_id"], "name": node.get("name") or result["unique_id"].split(".")[-1],
                      "kind": kind, "status": result["status"], "failures": result.get("failures"),
                      "message": result.get("message") or "", "sql": result.get("compiled_code"),
                      "path": node.get("original_file_path", ""), "sample": None})
    return tests


# -- personal data in sample rows --------------------------------------------------------------
# The report is read by whoever investigates a failing test, and lives on disk: sample values of
# personal data (e-mails, names, phone numbers) are shown by shape only, never as they are. A
# column is personal when a model or source tags it (`meta: {personal_data: true}` in its .yml),
# when it carries one of these names, or when its value looks like an e-mail address.
PERSONAL_COLUMN_NAMES = {"matched_on", "email", "emails", "email_normalised", "emails_normalised", "primary_email",
                         "email_addresses", "full_name", "first_name", "last_name", "display_name", "given_name",
                         "family_name", "phone", "phone_numbers", "phone_keys", "name_first_name",
                         "name_last_name", "name__first_name", "name__last_name"}
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def personal_columns(manifest: dict | None) -> set[str]:
    tagged = set(PERSONAL_COLUMN_NAMES)
    for node in [*(manifest or {}).get("nodes", {}).values(), *(manifest or {}).get("sources", {}).values()]:
        for name, column in (node.get("columns") or {}).items():
            if (column.get("meta") or {}).get("personal_data") or (column.get("config", {}).get("meta") or {}).get(
                    "personal_data"):
                tagged.add(name)
    return tagged


def masked(value) -> str:
    """A personal value's shape, not the value: `<personal: text, 17 chars>`."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return f"<personal: {len(value)} values>"
    return f"<personal: {type(value).__name__ if not isinstance(value, str) else 'text'}, {len(str(value))} chars>"


def is_personal(column: str, value, personal: set[str]) -> bool:
    """Tagged or named personal, shaped like an e-mail address, or JSON or an array (a raw
    record's `values` holds names and addresses under any key): shown by shape only."""
    return (column in personal or isinstance(value, (dict, list, tuple))
            or (isinstance(value, str) and bool(EMAIL_LIKE.search(value))))


def mask_sample(columns: list[str], rows: list, personal: set[str]) -> list[tuple]:
    return [tuple(masked(value) if is_personal(column, value, personal) else value
                  for column, value in zip(columns, row)) for row in rows]


def attach_samples(tests: list[dict], personal: set[str] = frozenset(PERSONAL_COLUMN_NAMES)) -> str:
    """Re-run each failing test's query for a few of its rows, personal values masked; returns a
    problem note, if any."""
    bad = [test for test in tests if test["status"] in {"fail", "warn"} and test["sql"]]
    if not bad:
        return ""
    try:
        with warehouse_connection() as conn:
            conn.read_only = True  # a test's query only reads; nothing here may change the warehouse
            for test in bad:
                try:
                    cursor = conn.execute(f"select * from (\n{test['sql']}\n) as failing limit {SAMPLE_ROWS}")
                    columns = [column.name for column in cursor.description]
                    test["sample"] = (columns, mask_sample(columns, cursor.fetchall(), personal))
                except Exception as error:  # a sample is a courtesy: the report still stands
                    conn.rollback()
                    test["sample"] = (["could not read failing rows"], [(str(error).splitlines()[0],)])
    except Exception as error:
        return f"Failing rows could not be read from the warehouse: {str(error).splitlines()[0]}"
    return ""


# -- the report ------------------------------------------------------------------------------
def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "never loaded"
    hours = seconds / 3600
    return f"{seconds / 60:.0f} min" if hours < 1 else f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def cell(value) -> str:
    text = "null" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def markdown_table(columns: list[str], rows: list) -> list[str]:
    lines = ["| " + " | ".join(cell(column) for column in columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def sample_lines(test: dict) -> list[str]:
    lines = [f"#### `{test['name']}` — {test['status']}"
             + (f", {test['failures']} failing row(s)" if test["failures"] else "")]
    if test["path"]:
        lines.append(f"Defined in `transform/{test['path']}`.")
    if test["status"] == "error":
        lines.append(f"> {cell(test['message'])}")
    if test["sample"]:
        columns, rows = test["sample"]
        lines.append(f"First {len(rows)} failing row(s):")
        lines += [""] + markdown_table(columns, rows)
    lines.append("")
    return lines


def render(env: str, freshness: dict[str, dict], tests: list[dict], problems: list[str]) -> tuple[str, bool]:
    stale = {source: entry for source, entry in freshness.items() if entry["status"] in FRESHNESS_BAD}
    bad = [test for test in tests if test["status"] in TEST_BAD]
    attention = bool(stale or bad or problems)
    now = datetime.now(timezone.utc)
    lines = [f"# Data quality — {env}, {now:%Y-%m-%d %H:%M} UTC", ""]
    if attention:
        what = []
        if problems:
            what.append("the checks could not all run")
        if stale:
            what.append(f"stale sources: {', '.join(sorted(stale))}")
        if bad:
            what.append(f"{len(bad)} failing test(s): {', '.join(test['name'] for test in bad[:8])}"
                        + (" …" if len(bad) > 8 else ""))
        lines += ["**Needs attention:** " + "; ".join(what) + ".", ""]
    else:
        lines += [f"**All is well:** {len(freshness)} source(s) fresh, {len(tests)} test(s) passed, "
                  "every reconciliation matches.", ""]
    for problem in problems:
        lines += [f"> {problem}", ""]

    lines += ["## Freshness", ""]
    if freshness:
        lines += markdown_table(["source", "status", "oldest table's last load", "tables checked"],
                                [(source, entry["status"],
                                  "no rows" if entry["status"] == "empty" else age_text(entry["oldest"]),
                                  len(entry["tables"]))
                                 for source, entry in sorted(freshness.items())])
        late = [(source, table["table"], table["status"], age_text(table["age_s"]), table["error"])
                for source, entry in sorted(freshness.items()) for table in entry["tables"]
                if table["status"] in FRESHNESS_BAD]
        if late:
            lines += ["", "Tables behind:", ""] + markdown_table(["source", "table", "status", "last load", "detail"], late)
        empty = [f"{source}.{table['table']}" for source, entry in sorted(freshness.items())
                 for table in entry["tables"] if table["status"] == "empty"]
        if empty:
            lines += ["", f"Empty tables (loaded, but the source has no rows for them; not stale): {', '.join(empty)}."]
    else:
        lines.append("No freshness results.")
    lines.append("")

    reconciliations = [test for test in tests if test["kind"] == "reconciliation"]
    others = [test for test in bad if test["kind"] != "reconciliation"]
    lines += ["## Failing tests", ""]
    if others:
        for test in others:
            lines += sample_lines(test)
    else:
        passed = sum(test["status"] == "pass" for test in tests if test["kind"] != "reconciliation")
        lines += [f"None: {passed} data and unit test(s) passed.", ""]

    lines += ["## Reconciliation", "", "Marts against staging, staging against raw (`transform/tests/`).", ""]
    if reconciliations:
        lines += markdown_table(["check", "result", "rows that differ"],
                                [(test["name"], test["status"], test["failures"] or 0) for test in reconciliations])
        lines.append("")
        for test in reconciliations:
            if test["status"] in TEST_BAD:
                lines += sample_lines(test)
    else:
        lines.append("No reconciliation results.")
    return "\n".join(lines).rstrip() + "\n", attention


def main() -> int:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = project.timestamp()
    report_path, log_path = REPORT_DIR / f"{stamp}.md", REPORT_DIR / f"{stamp}.log"
    target = target_dir()
    for stale_artifact in ("sources.json", "run_results.json"):
        (target / stale_artifact).unlink(missing_ok=True)
    problems = []
    with open(log_path, "w") as log:
        invoke_dbt("source", "freshness", log=log)
        freshness = freshness_by_source(read_json(target / "sources.json"))
        if not freshness:
            problems.append(f"dbt source freshness produced no results; see {log_path}")
        code = invoke_dbt("test", log=log)
        manifest = read_json(target / "manifest.json")
        tests = test_results(read_json(target / "run_results.json"), manifest)
        if not tests:
            problems.append(f"dbt test produced no results (exit {code}); see {log_path}")
        if freshness:
            check_other_instances(freshness, tests, problems, log)
    sample_problem = attach_samples(tests, personal_columns(manifest))
    if sample_problem:
        problems.append(sample_problem)
    text, attention = render(project.environment(), freshness, tests, problems)
    report_path.write_text(text)
    shutil.copyfile(report_path, REPORT_DIR / "latest.md")
    print(text)
    print(f"report: {report_path}\ndbt output: {log_path}")
    return 1 if attention else 0


if __name__ == "__main__":
    project.private_files()
    sys.exit(main())
