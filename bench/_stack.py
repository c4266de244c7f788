"""What the benchmarks share: their own stack or simulator on free ports, running a tap and timing
its output, CPU accounting, the machine's facts and the results file.

Each script under bench/ imports this (`import _stack`; Python puts bench/ on the path when it runs
a script from there). The private stack itself (ports, folders, the settings Meltano is given) is
tests/private_stack.py, the same one the test suite runs on.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
RESULTS_DIR = ROOT / "bench" / "results"
PLUGIN_BINS = (ROOT / ".meltano" / "extractors", ROOT / ".meltano" / "loaders")
SANDBOX_SRC = ROOT / "extract" / "sandbox"

sys.path.insert(0, str(ROOT / "tests"))
from private_stack import PrivateStack, copy_tracked_files  # noqa: E402, F401 (for the scripts)


# -- a stack or a simulator of the benchmark's own ---------------------------------------------
def free_ports(count: int = 1) -> list[int]:
    """Ports nothing listens on, all different (the sockets are held until every port is picked)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def free_port() -> int:
    return free_ports(1)[0]


@contextlib.contextmanager
def private_stack(run_dir: Path, *sandbox_args: str) -> Iterator[PrivateStack]:
    """A warehouse and the whole sandbox on free ports, under `run_dir` (emptied first), stopped
    on the way out. `sandbox_args` go to `python -m tributary_sandbox start` (e.g. "--scale", "10")."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    stack = PrivateStack(run_dir, *free_ports(3))
    try:
        stack.start(*sandbox_args)
        yield stack
    finally:
        stack.stop()


class Simulator:
    """One vendor's simulator alone (`python -m tributary_sandbox one <vendor>`) in its own process
    on a free port, without the rest of the sandbox: for a tap benchmark that reads a single API.
    `args` go to that command (--scale, --today, --option KEY=NUMBER for the vendor's Simulator)."""

    def __init__(self, vendor: str, *args: str, start_timeout: float = 120) -> None:
        self.vendor = vendor
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": f"{SANDBOX_SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.proc = subprocess.Popen([sys.executable, "-m", "tributary_sandbox", "one", vendor, "--port", str(port),
                                      *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                self.control("GET", "counts", timeout=300)  # the first answer may build the world
                return
            except requests.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    raise SystemExit(f"the {vendor} simulator did not start: "
                                     + self.proc.stderr.read().decode(errors="replace")[-2000:])
                time.sleep(0.2)

    def control(self, method: str, what: str, body: dict | None = None, timeout: float = 30):
        """The simulator's control API, /_sandbox/<vendor>/<what>."""
        response = requests.request(method, f"{self.url}/_sandbox/{self.vendor}/{what}", json=body, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- a tap, run and timed --------------------------------------------------------------------------
def tap_executable(name: str, given: str | None = None) -> str:
    """`given`, else the tap as Meltano installed it (its plugin venv), else next to this python or on PATH."""
    found = given or (shutil.which(name, path=str(ROOT / ".meltano" / "extractors" / name / "venv" / "bin"))
                      or shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name))
    if not found:
        raise SystemExit(f"{name} is not installed: run `make install` first")
    return found


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def discover_selecting(exe: str, config: Path, streams: set[str] | None) -> dict:
    """The tap's discovered catalog with only `streams` selected (None: every stream)."""
    catalog = json.loads(subprocess.run([exe, "--config", str(config), "--discover"], capture_output=True,
                                        check=True).stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = streams is None or entry["tap_stream_id"] in streams
    return catalog


RECORD_STARTS = (b'{"type":"RECORD"', b'{"type": "RECORD"')  # SDK taps write compact JSON, singer-python spaced
SCHEMA_STARTS = (b'{"type":"SCHEMA"', b'{"type": "SCHEMA"')


@dataclass
class TapOutput:
    """What one tap run wrote, with the moments that time it (time.perf_counter())."""
    returncode: int = 0
    lines: int = 0
    records: int = 0
    schema: dict | None = None  # the first SCHEMA message's schema
    samples: list[bytes] = field(default_factory=list)  # every 997th RECORD line, for a schema check
    started: float = 0.0
    schema_at: float | None = None  # SDK taps send SCHEMA before their first request
    first_record_at: float | None = None
    last_record_at: float | None = None
    ended: float = 0.0

    @property
    def seconds_total(self) -> float:
        """Process start to exit: start-up and discovery included."""
        return self.ended - self.started


def run_tap(exe: str, config: Path, catalog: Path, *, state: Path | None = None, env: dict | None = None,
            on_record: Callable[[bytes], None] | None = None, stderr=subprocess.DEVNULL) -> TapOutput:
    """Run a tap once; its stdout is read here line by line, counted and dropped."""
    out = TapOutput(started=time.perf_counter())
    cmd = [exe, "--config", str(config), "--catalog", str(catalog), *(["--state", str(state)] if state else [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env, bufsize=1 << 20)
    for line in proc.stdout:
        out.lines += 1
        if line.startswith(RECORD_STARTS):
            out.last_record_at = time.perf_counter()
            out.first_record_at = out.first_record_at or out.last_record_at
            out.records += 1
            if out.records % 997 == 1:
                out.samples.append(line)
            if on_record:
                on_record(line)
        elif out.schema is None and line.startswith(SCHEMA_STARTS):
            out.schema_at = time.perf_counter()
            out.schema = json.loads(line)["schema"]
    out.returncode = proc.wait()
    out.ended = time.perf_counter()
    return out


def check_schema(schema: dict, sample_lines: list[bytes], key: str, formats: bool = False) -> dict:
    """Sampled RECORDs against the SCHEMA the tap declared: errors, and keys it did not declare."""
    from jsonschema import Draft7Validator, FormatChecker

    validator = Draft7Validator(schema, format_checker=FormatChecker() if formats else None)
    bad = []
    for line in sample_lines:
        record = json.loads(line)["record"]
        errors = [e.message for e in validator.iter_errors(record)]
        undeclared = sorted(set(record) - set(schema["properties"]))
        if errors or undeclared:
            bad.append({key: record.get(key), "errors": errors[:3], "undeclared": undeclared})
    return {"sampled": len(sample_lines), "mismatches": len(bad), "examples": bad[:3]}


def nogc(parse: Callable[[bytes], object]) -> Callable[[bytes], object]:
    """`parse` with the cyclic GC paused, as our taps parse (for a ceiling that does the same)."""
    def wrapped(data: bytes):
        gc.disable()
        try:
            return parse(data)
        finally:
            gc.enable()
    return wrapped


# -- CPU accounting ----------------------------------------------------------------------------------
def children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (the programs a benchmark ran and waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    """CPU seconds of a running process and its reaped children (PostgreSQL's backends are children)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


class CpuSampler:
    """Samples the CPU time of every process under a `meltano run`, by role (tap, target, dbt,
    meltano): a process's last sample before it exits is its total."""

    ROLES = (("tap-", "tap"), ("target-", "target"), ("dbt", "dbt"), ("meltano", "meltano"))

    def __init__(self, root_pid: int) -> None:
        self.root = psutil.Process(root_pid)
        self.last: dict[int, tuple[str, float]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def role(self, proc: psutil.Process) -> str:
        try:
            argv = proc.cmdline()
        except psutil.Error:
            return "other"
        # `python /path/to/tap-x …` or `/path/to/tap-x …`: the program is the first non-python word
        names = [Path(a).name for a in argv[:2]]
        program = names[1] if len(names) > 1 and names[0].startswith("python") else (names[0] if names else "")
        for prefix, role in self.ROLES:
            if program.startswith(prefix):
                return role
        return "other"

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        for proc in procs:
            try:
                t = proc.cpu_times()
                role = self.last.get(proc.pid, (None,))[0] or self.role(proc)
                self.last[proc.pid] = (role, t.user + t.system)
            except psutil.Error:
                pass

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.sample()

    def totals(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        out: dict[str, float] = collections.defaultdict(float)
        for role, seconds in self.last.values():
            out[role] += seconds
        return {k: round(v, 1) for k, v in sorted(out.items())}


# -- the machine and the results ---------------------------------------------------------------------
def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_facts(**extra) -> dict:
    """What a figure depends on: cores, memory, CPU, Python, the system and how busy it is now."""
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "cpu_model": cpu_model, "python": platform.python_version(), "system": platform.platform(),
            "load_average": load_average(), **extra}


def command_line(args: argparse.Namespace) -> str:
    """The command that repeats this run, every option spelled out (defaults too)."""
    words = [".venv/bin/python", f"bench/{Path(sys.argv[0]).name}"]
    for name, value in vars(args).items():
        option = "--" + name.replace("_", "-")
        if value is None or value is False or value == []:
            continue
        if value is True:
            words.append(option)
        elif isinstance(value, list):
            words += [option, *map(str, value)]
        elif isinstance(value, float):
            words += [option, f"{value:g}"]
        else:
            text = str(value)  # a path under the project is shown as the project sees it
            words += [option, str(Path(text).relative_to(ROOT)) if Path(text).is_relative_to(ROOT) else text]
    return " ".join(words)


def result_header(args: argparse.Namespace, **machine_extra) -> dict:
    """The first keys of every results file: how to repeat it, when, on what."""
    return {"command": command_line(args), "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_facts(**machine_extra)}


def write_results(result: dict, path: Path) -> Path:
    """bench/results/<name>.json (or where --out says); says where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
