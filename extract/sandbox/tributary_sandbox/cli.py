"""`tributary-sandbox` / `python -m tributary_sandbox`: serve | start | stop | status | truth.

  serve   run in the foreground (app on --port, proxy on --proxy-port)
  start   run in the background; writes <state_dir>/sandbox.pid and sandbox.log, returns once
          /_sandbox/health answers. Already running and healthy → says so, exits 0 (once the
          world asked for is the one the state dir records, as below).
  stop    stop the background server (fine if it is not running)
  status  running or not, with ports; exit 1 when not running
  truth   write the world's ground truth JSON (--out FILE, default stdout): of the seed and scale
          given, else of the state dir's recorded world (nothing is served, so nothing is refused)

Options (flag > env > default): --state-dir SANDBOX_STATE_DIR ./.sandbox, --host 127.0.0.1,
--port SANDBOX_PORT 8765, --proxy-port SANDBOX_PROXY_PORT 8766, --seed SANDBOX_SEED 42,
--scale SANDBOX_SCALE 1.0, --source-scales SANDBOX_SOURCE_SCALES (e.g. "ga4=20,shopify=3": those
sources serve a world of their own scale; benchmarks use it for a realistic mix), --mess
SANDBOX_MESS none (realistic | heavy: what real businesses type on top, world.py), --today
(YYYY-MM-DD: the world's history ends the day before).

A state dir that holds a world (<state_dir>/world.json: its date, seed, scales and mess) serves
that same world at every start, the defaults notwithstanding; a seed, scale or mess asked for over
it that differs is refused, naming `make demo-reset`.

Without --today the world is built as of the date recorded in <state_dir>/world.json, the day
the sandbox first built it, so a restart serves the same past (anchor.py); with no record, as of
today (or TRIBUTARY_SANDBOX_TODAY, tests' "pretend today is"), and that date is recorded.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .world import MESS_LEVELS

MESS_CHOICES = tuple(MESS_LEVELS)


class CliError(Exception):
    """A message for the user; printed without a traceback, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", default=env("SANDBOX_STATE_DIR", "./.sandbox"))
    common.add_argument("--host", default="127.0.0.1")
    common.add_argument("--port", type=int, default=int(env("SANDBOX_PORT", "8765")))
    common.add_argument("--proxy-port", type=int, default=int(env("SANDBOX_PROXY_PORT", "8766")))
    # No default here: unset means "the recorded world, else the default" (_world)
    common.add_argument("--seed", default=env("SANDBOX_SEED") or None)
    common.add_argument("--scale", default=env("SANDBOX_SCALE") or None)
    common.add_argument("--source-scales", default=env("SANDBOX_SOURCE_SCALES") or None,
                        help='per-source scales, e.g. "ga4=20,shopify=3" (others use --scale)')
    common.add_argument("--instances", default=env("SANDBOX_INSTANCES") or "", metavar="VENDOR:NAME,...",
                        help="other businesses on a vendor, each under /instances/<name>/ (app.py), e.g. shopify:acme")
    common.add_argument("--mess", default=env("SANDBOX_MESS") or None, choices=MESS_CHOICES,
                        help="what real businesses type on top of the world (default none)")
    common.add_argument("--today", default=None, help="last day of history + 1 (YYYY-MM-DD); default: the date recorded in the state dir, else today (UTC)")
    p = argparse.ArgumentParser(prog="tributary-sandbox", description="Local simulator of Tributary's vendor APIs.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_ in (("serve", "run in the foreground"), ("start", "run in the background"),
                        ("stop", "stop the background server"), ("status", "is it running?")):
        sub.add_parser(name, parents=[common], help=help_)
    t = sub.add_parser("truth", parents=[common], help="write the ground truth JSON")
    t.add_argument("--out", default="-")
    s = sub.add_parser("score", parents=[common],
                       help="how well a warehouse unified the world's customers (the demo's last line)")
    s.add_argument("--warehouse", default=" ".join((
        f"host={env('WAREHOUSE_HOST', '127.0.0.1')}", f"port={env('WAREHOUSE_PORT', '55432')}",
        f"dbname={env('WAREHOUSE_DB', 'warehouse')}", "user=tributary_analyst")),
        help="libpq connection string; the password comes from WAREHOUSE_ANALYST_PASSWORD (dev: the fixed one)")
    o = sub.add_parser("one", help="serve one vendor alone over plain HTTP, in the foreground (benchmarks)")
    o.add_argument("vendor")
    o.add_argument("--host", default="127.0.0.1")
    o.add_argument("--port", type=int, default=8765)
    o.add_argument("--seed", type=int, default=42)
    o.add_argument("--scale", type=float, default=1.0)
    o.add_argument("--today", default="2026-11-25")
    o.add_argument("--state-dir", default=None, help="where to write files a client needs (none by default)")
    o.add_argument("--option", action="append", default=[], metavar="KEY=NUMBER",
                   help="a keyword of the vendor's Simulator, e.g. restore_rate=100 (repeatable)")
    return p


def _today(args) -> dt.date:
    """The date the world is built as of: --today, else the state dir's recorded anchor, else
    today (TRIBUTARY_SANDBOX_TODAY if set)."""
    from . import anchor

    if args.today:
        try:
            return dt.date.fromisoformat(args.today)
        except ValueError:
            raise CliError(f"--today must be YYYY-MM-DD, got {args.today!r}") from None
    try:
        return anchor.recorded(args.state_dir) or anchor.pretend_today()
    except ValueError as err:
        raise CliError(str(err)) from None


DEFAULT_SEED, DEFAULT_SCALE, DEFAULT_MESS = 42, 1.0, "none"


def _world(args, *, refuse_another: bool = True) -> tuple[int, float, dict[str, float], str]:
    """The seed, scale, per-source scales and mess to serve. A state dir that holds a world serves that
    world again, whatever the defaults: the warehouse loaded from it must never receive another
    world's changes. Asking for another one there (flag or variable) is refused with the way out,
    unless `refuse_another` is False (the truth of another world harms nothing: what is asked wins)."""
    from . import anchor

    try:
        seed = None if args.seed is None else int(args.seed)
        scale = None if args.scale is None else float(args.scale)
    except ValueError:
        raise CliError(f"--seed (SANDBOX_SEED) wants a whole number and --scale (SANDBOX_SCALE) a number, "
                       f"got {args.seed!r} and {args.scale!r}") from None
    asked_scales = None if args.source_scales is None else _source_scales(args)
    recorded = anchor.recorded_world(args.state_dir)
    mess = args.mess
    if mess is not None and mess not in MESS_CHOICES:   # SANDBOX_MESS is not checked by argparse
        raise CliError(f"--mess (SANDBOX_MESS) wants one of {', '.join(MESS_CHOICES)}, got {mess!r}")
    if recorded is None:
        return (DEFAULT_SEED if seed is None else seed, DEFAULT_SCALE if scale is None else scale,
                asked_scales or {}, DEFAULT_MESS if mess is None else mess)
    asked = {"seed": seed, "scale": scale,
             "source_scales": None if asked_scales is None else
             {k: v for k, v in asked_scales.items() if v != (recorded["scale"] if scale is None else scale)},
             "mess": mess}
    names = {"seed": "SANDBOX_SEED (--seed)", "scale": "SANDBOX_SCALE (--scale)",
             "source_scales": "SANDBOX_SOURCE_SCALES (--source-scales)", "mess": "SANDBOX_MESS (--mess)"}
    differing = [key for key, value in asked.items() if value is not None and value != recorded[key]]
    if differing and not refuse_another:
        return (recorded["seed"] if seed is None else seed, recorded["scale"] if scale is None else scale,
                recorded["source_scales"] if asked_scales is None else asked_scales,
                recorded["mess"] if mess is None else mess)
    if differing:
        holds = ", ".join(f"{key.replace('_', ' ')} {recorded[key]}" for key in ("seed", "scale", "source_scales", "mess")
                          if key != "source_scales" or recorded[key])
        wants = ", ".join(f"{names[key]}={asked[key]}" for key in differing)
        raise CliError(f"{args.state_dir} holds the world built with {holds}, and {wants} asks for another. "
                       f"A warehouse loaded from one world must not receive another's changes: run "
                       f"`make demo-reset` to start afresh with the new world, or unset the variable to keep this one")
    return recorded["seed"], recorded["scale"], recorded["source_scales"], recorded["mess"]


def _instances(args) -> dict[str, list[str]]:
    """--instances shopify:acme,shopify:globex -> {"shopify": ["acme", "globex"]}, checked by the app."""
    from .app import SOURCES, checked_instances
    out: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in args.instances.split(","))):
        vendor, _, name = part.partition(":")
        out.setdefault(vendor.strip(), []).append(name.strip())
    try:
        return checked_instances(out, SOURCES)
    except ValueError as err:
        raise CliError(f"--instances (SANDBOX_INSTANCES): {err}") from None


def _source_scales(args) -> dict[str, float]:
    from .app import SOURCES
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (args.source_scales or "").split(","))):
        source, _, value = part.partition("=")
        try:
            out[source.strip()] = float(value)
        except ValueError:
            raise CliError(f"--source-scales wants SOURCE=SCALE pairs, got {part!r}") from None
        if source.strip() not in SOURCES or out[source.strip()] <= 0:
            raise CliError(f"--source-scales: {part!r} is not one of {', '.join(SOURCES)} with a scale > 0")
    return out


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _refuse_taken_ports(args) -> None:
    """A port another program holds: refused, with what moves the sandbox there for every part
    that uses it (the sandbox reads SANDBOX_PORT / SANDBOX_PROXY_PORT, the taps their own
    settings, which the dev environment gives the default ports)."""
    from . import dev_settings

    for label, port, variable in (("port", args.port, "SANDBOX_PORT"), ("proxy port", args.proxy_port, "SANDBOX_PROXY_PORT")):
        if _port_free(args.host, port):
            continue
        configured = {args.port, args.proxy_port}  # never advise the sandbox's other port
        other = next((p for p in range(port + 2, port + 200) if p not in configured and _port_free(args.host, p)),
                     port + 2)
        moved = dev_settings.api_urls(args.host, other) if variable == "SANDBOX_PORT" else dev_settings.proxy(args.host, other)
        raise CliError(f"{label} {port} is already in use by another program. Stop it, or move the sandbox's "
                       f"{label} for every part that uses it (the sandbox and the taps), in this shell before "
                       f"`make` and `meltano`: {dev_settings.export_line({variable: str(other), **moved})}")


def _health(host: str, port: int, timeout: float = 1.0) -> dict | None:
    try:
        # Bypass any proxy env: this is a local call.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://{host}:{port}/_sandbox/health", timeout=timeout) as resp:
            return json.load(resp)
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return None


def _pid(state: Path) -> int | None:
    try:
        pid = int((state / "sandbox.pid").read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def cmd_serve(args) -> int:
    from aiohttp import web

    from . import anchor
    from .app import Sandbox, build_app
    from .certs import ensure_certs
    from .proxy import InterceptingProxy

    _refuse_taken_ports(args)
    today = _today(args)
    seed, scale, source_scales, mess = _world(args)
    paths = ensure_certs(args.state_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def main() -> None:
        t0 = time.perf_counter()
        sb = Sandbox(seed, scale, today, ports={"http": args.port, "proxy": args.proxy_port},
                     state_dir=Path(args.state_dir).resolve(), source_scales=source_scales, mess=mess,
                     instances=_instances(args))
        anchor.record(sb.state_dir, today, seed, scale, sb.source_scales, mess)  # the next start builds this same world
        logging.info("world built (seed=%s scale=%s source_scales=%s mess=%s today=%s) in %.1fs; clock %s", seed,
                     scale, sb.source_scales, mess, today, time.perf_counter() - t0, sb.clock.now().isoformat())
        app = build_app(sb)
        # Files that hand a client this server's address (GA4's service-account key) are written now.
        sb.started(f"http://{args.host}:{args.port}")
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, args.host, args.port).start()
        proxy = InterceptingProxy(str(paths["leaf"]), str(paths["key"]), args.host, args.port)
        await proxy.start(args.host, args.proxy_port)
        logging.info("sandbox ready: http://%s:%s  proxy http://%s:%s  CA %s", args.host, args.port,
                     args.host, args.proxy_port, paths["ca"])
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await proxy.close()
        await runner.cleanup()

    asyncio.run(main())
    return 0


def cmd_start(args) -> int:
    seed, scale, source_scales, mess = _world(args)  # a typo or another world fails here, not in the background
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    if (h := _health(args.host, args.port)) is not None:
        print(f"sandbox already running on http://{args.host}:{args.port} (proxy {h.get('ports', {}).get('proxy')})")
        return 0
    _refuse_taken_ports(args)
    cmd = [sys.executable, "-m", "tributary_sandbox", "serve", "--state-dir", str(state), "--host", args.host,
           "--port", str(args.port), "--proxy-port", str(args.proxy_port), "--seed", str(seed),
           "--scale", str(scale), "--source-scales", ",".join(f"{k}={v}" for k, v in source_scales.items()),
           "--mess", mess, "--instances", args.instances]
    _instances(args)  # a typo fails here, not in the background
    if args.today:
        cmd += ["--today", _today(args).isoformat()]  # else `serve` reads the recorded anchor itself
    _today(args)  # a bad --today or TRIBUTARY_SANDBOX_TODAY fails here, not in the background
    with open(state / "sandbox.log", "ab") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    (state / "sandbox.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (state / "sandbox.log").read_text(errors="replace").strip().splitlines()[-5:]
            raise CliError("sandbox exited during start-up:\n  " + "\n  ".join(tail))
        if _health(args.host, args.port) is not None:
            print(f"sandbox running: http://{args.host}:{args.port}  proxy http://{args.host}:{args.proxy_port}  "
                  f"CA {state.resolve() / 'ca.pem'}  (pid {proc.pid})")
            return 0
        time.sleep(0.2)
    proc.terminate()
    raise CliError(f"sandbox did not become healthy within 120 s; see {state / 'sandbox.log'}")


def cmd_stop(args) -> int:
    state = Path(args.state_dir)
    pid = _pid(state)
    if pid is None:
        print("sandbox not running")
        (state / "sandbox.pid").unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if _pid(state) is None:
            break
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    (state / "sandbox.pid").unlink(missing_ok=True)
    print(f"sandbox stopped (pid {pid})")
    return 0


def cmd_status(args) -> int:
    h = _health(args.host, args.port)
    if h is None:
        print(f"sandbox not running on http://{args.host}:{args.port}")
        return 1
    print(f"sandbox running: http://{args.host}:{args.port}  proxy port {h['ports'].get('proxy')}  "
          f"seed {h['seed']} scale {h['scale']} mess {h.get('mess', 'none')} today {h['today']}  "
          f"sandbox_now {h['sandbox_now']}")
    return 0


def cmd_truth(args) -> int:
    from .world import build_world
    seed, scale, _, mess = _world(args, refuse_another=False)
    data = json.dumps(build_world(seed, scale, _today(args), mess).truth(), indent=1, sort_keys=True)
    if args.out == "-":
        print(data)
    else:
        Path(args.out).write_text(data + "\n")
        print(f"truth written to {args.out}")
    return 0


def cmd_score(args) -> int:
    """Identity resolution against the world's truth: pairs of source records put in the same
    customer by intermediate.int_identity__customer_map, held against the generator's."""
    import psycopg

    from .scoring import score_unification
    from .world import build_world

    seed, scale, _, mess = _world(args, refuse_another=False)
    customers = build_world(seed, scale, _today(args), mess).truth()["customers"]
    try:
        with psycopg.connect(args.warehouse, password=os.environ.get("WAREHOUSE_ANALYST_PASSWORD",
                                                                      "tributary-analyst-dev"), connect_timeout=5) as conn:
            predicted = {(system, obj, source_id): unified for system, obj, source_id, unified in conn.execute(
                "select source_system, source_object, source_id, unified_customer_id"
                " from intermediate.int_identity__customer_map").fetchall()}
    except psycopg.Error as error:
        raise CliError(f"cannot read intermediate.int_identity__customer_map: {str(error).strip().splitlines()[0]} "
                       "(run `make demo` first)") from None
    score = score_unification(customers, predicted)
    print(f"Identity resolution vs the sandbox's truth: precision {score['precision']:.4f}, "
          f"recall {score['recall']:.4f} ({score['records']} records, {score['true_pairs']} same-customer pairs)")
    return 0


def cmd_one(args) -> int:
    from aiohttp import web

    from .app import Sandbox, build_app
    options = {}
    for pair in args.option:
        key, _, value = pair.partition("=")
        try:
            options[key.strip()] = float(value)
        except ValueError:
            raise CliError(f"--option wants KEY=NUMBER, got {pair!r}") from None
    state_dir = Path(args.state_dir).resolve() if args.state_dir else None
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
    try:
        sb = Sandbox(args.seed, args.scale, dt.date.fromisoformat(args.today), state_dir=state_dir,
                     only=[args.vendor], options={args.vendor: options})
    except (ValueError, TypeError) as err:
        raise CliError(str(err)) from None
    base_url = f"http://{args.host}:{args.port}"
    sb.started(base_url)
    web.run_app(build_app(sb), host=args.host, port=args.port, access_log=None,
                print=lambda *_: print(f"{args.vendor} simulator on {base_url}", flush=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"serve": cmd_serve, "start": cmd_start, "stop": cmd_stop, "status": cmd_status, "truth": cmd_truth,
               "score": cmd_score, "one": cmd_one}
    try:
        return handler[args.command](args)
    except CliError as err:
        print(f"tributary-sandbox: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
