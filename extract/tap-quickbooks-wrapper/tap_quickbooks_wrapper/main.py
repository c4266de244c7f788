"""Run the unmodified community tap-quickbooks so that it lasts under Meltano.

Meltano calls this in place of `tap-quickbooks`, with the same arguments. Around the tap it:

1. checks the config first and names the missing setting, instead of a bare KeyError;
2. keeps QuickBooks' rotating refresh token: Intuit hands out a new refresh token about daily
   and the old one then fails with `invalid_grant`. The tap writes the new token into its
   --config file, which Meltano deletes after the run, so a scheduled pipeline would die after a
   day. We feed the newest token into the config before the tap starts and copy every token the
   tap writes back into a durable token store (a 0600 JSON file) as soon as it appears;
3. keeps the change-data-capture bookmark (stream deleted_objects) within the 30 days QuickBooks
   accepts: the tap starts it at start_date, so without this its first run, and any run after a
   pause of a month, is refused by the API. A first run (no bookmark at all) is left to
   guarded_tap.py, which starts it at the run's start and moves it on after each complete read;
4. re-pulls the profit-and-loss report for the last `report_restatement_days` (default 90):
   the tap alone re-reads only 30 days, so a bill or invoice edited last quarter (month-end
   closing) would leave the warehouse's P&L stale for good (the monthly report streams,
   month_reports.py, read the same window again by themselves);
5. streams the tap's log with every secret masked, and on failure ends with one message naming
   the cause and the fix.

The tap's stdout (the Singer messages) goes straight through, untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from tributary_tap_support.settings import typed_settings

REQUIRED_SETTINGS = {
    "start_date": "the first day to sync, e.g. 2024-01-01T00:00:00Z",
    "user_agent": "any name for your app, e.g. tributary",
    "realm_id": "your company id: Intuit developer portal → your app → Keys & credentials, or the URL of QuickBooks Online",
    "client_id": "Intuit developer portal → your app → Keys & credentials",
    "client_secret": "Intuit developer portal → your app → Keys & credentials",
    "refresh_token": "Intuit's OAuth 2.0 Playground, after connecting your company to the app",
}
SECRET_SETTINGS = ("client_secret", "refresh_token", "access_token")
# Whole-number settings. meltano.yml declares them without a Meltano `kind` (Meltano's own cast of
# "lots" ends in a traceback naming no setting), so a setting variable arrives here as text:
# converted, or named with its fix, by the converter every plugin of ours shares.
NUMBER_SETTINGS = {"properties": {
    "max_results": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000},  # QuickBooks' most a query
    "request_timeout": {"type": "integer", "minimum": 1, "default": 300},
    "report_restatement_days": {"type": "integer", "minimum": 0, "default": 90},
}}
CDC_LOOKBACK = dt.timedelta(days=29)  # the API refuses changedSince older than 30 days
DEFAULT_REPORT_RESTATEMENT_DAYS = 90


def log(message: str) -> None:
    print(f"tap-quickbooks-wrapper | {message}", file=sys.stderr, flush=True)


class ConfigError(Exception):
    """A problem with the settings: its message says which setting and how to fix it."""


def _project_root() -> Path:
    return Path(os.environ.get("MELTANO_PROJECT_ROOT") or os.getcwd())


def _arg_value(args: list[str], flag: str) -> str | None:
    if flag in args:
        index = args.index(flag)
        if index + 1 < len(args):
            return args[index + 1]
    return None


def _write_json_atomically(path: Path, data: dict, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def check_config(config: dict) -> None:
    missing = [key for key in REQUIRED_SETTINGS if not str(config.get(key) or "").strip()]
    if missing:
        lines = [
            f"  TAP_QUICKBOOKS_{key.upper()}: {REQUIRED_SETTINGS[key]}" for key in missing
        ]
        raise ConfigError(
            "QuickBooks is not configured: missing "
            + ", ".join(missing)
            + ".\nSet these in .env (see .env.example) or with `meltano config tap-quickbooks set`:\n"
            + "\n".join(lines)
        )
    problems = typed_settings(config, NUMBER_SETTINGS, "tap-quickbooks")
    if problems:
        raise ConfigError("; ".join(problems) + ".")
    try:
        dt.datetime.fromisoformat(str(config["start_date"]).strip().replace("Z", "+00:00"))
    except ValueError:
        # The tap would otherwise fail deep inside its first query, after a minute of retries.
        raise ConfigError(
            f"QuickBooks start_date {config['start_date']!r} is not a date. Fix: set TAP_QUICKBOOKS_START_DATE "
            f"to {REQUIRED_SETTINGS['start_date']}."
        ) from None


class TokenStore:
    """The newest refresh token for one QuickBooks company, kept across runs.

    The file remembers which configured token it grew from: when the user puts a *new* token
    in the config (after reconnecting the app), that one wins and the chain starts again.
    """

    def __init__(self, path: Path, realm_id: str, client_id: str, configured_token: str,
                 extractor: str | None = None):
        self.path = path
        self.realm_id = realm_id
        self.extractor = extractor   # the Meltano extractor whose chain this is (None: run by hand)
        self.client_id = client_id
        self.configured_fingerprint = hashlib.sha256(configured_token.encode()).hexdigest()
        self.configured_token = configured_token
        self._lock = threading.Lock()

    def current_token(self) -> str:
        try:
            saved = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return self.configured_token
        same_chain = (
            saved.get("realm_id") == self.realm_id
            and saved.get("client_id") == self.client_id
            and saved.get("configured_fingerprint") == self.configured_fingerprint
        )
        return saved["refresh_token"] if same_chain and saved.get("refresh_token") else self.configured_token

    def check_company(self) -> None:
        """A store keeps one company's chain: a parent's token_store_path, inherited by another
        company's extractor, would have each company's rotated token overwrite the other's. One
        extractor moving to another company (a test company, then the real one) starts a new chain."""
        try:
            saved = json.loads(self.path.read_text())
            saved_realm, saved_extractor = saved.get("realm_id"), saved.get("extractor")
        except (FileNotFoundError, json.JSONDecodeError, AttributeError):
            return
        if saved_realm and saved_realm != self.realm_id and saved_extractor and self.extractor \
                and saved_extractor != self.extractor:
            prefix = re.sub(r"[^A-Z0-9]", "_", self.extractor.upper())
            raise ConfigError(
                f"The token store {self.path} keeps QuickBooks company {saved_realm}'s refresh token for "
                f"{saved_extractor}, not company {self.realm_id}'s: two companies sharing it would overwrite each other's. Give each company its "
                f"own ({prefix}_TOKEN_STORE_PATH), or leave it unset for the default, one file per company.")

    def save(self, refresh_token: str) -> bool:
        """Store the token; True when it was new."""
        with self._lock:
            if refresh_token == self.current_token():
                return False
            _write_json_atomically(self.path, {
                "realm_id": self.realm_id,
                "extractor": self.extractor,
                "client_id": self.client_id,
                "configured_fingerprint": self.configured_fingerprint,
                "refresh_token": refresh_token,
                "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            })
            return True


def default_token_store_path(realm_id: str) -> Path:
    return _project_root() / ".meltano" / "quickbooks" / f"refresh-token-{realm_id}.json"


def claim_company(claims_dir: Path, realm_id: str, extractor: str | None) -> None:
    """One extractor per QuickBooks company. An inherited extractor (tap-quickbooks--acme) takes
    every setting it does not set from tap-quickbooks, the realm id and refresh token included, so
    a forgotten setting would load the first company again into the second one's schema: the
    numbers of one business counted twice, silently. The first extractor to load a company claims
    it (a file beside the token stores); another one is refused, naming the settings to set. The
    parent (tap-quickbooks) takes a company back from an inherited one: the company an inherited
    extractor falls back to is the parent's. (One company split over two extractors on purpose, one
    reading only the reports, is refused too: delete the claim file when that is meant.)"""
    if not extractor:
        return   # run outside Meltano (by hand, a benchmark): nothing names the extractor
    claim = claims_dir / f"company-{realm_id}.json"
    try:
        owner = json.loads(claim.read_text()).get("extractor")
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        owner = None
    if owner and owner != extractor and "--" in owner and "--" not in extractor:
        log(f"QuickBooks company {realm_id} was claimed by {owner}, which inherits its company id from "
            f"{extractor} when its own is unset: {extractor} takes it back, and {owner} is refused from now on.")
        owner = None
    elif owner and owner != extractor:
        prefix = re.sub(r"[^A-Z0-9]", "_", extractor.upper())
        raise ConfigError(
            f"{extractor} is set to load QuickBooks company {realm_id}, which {owner} already loads "
            f"({claim}): the same business would be counted twice. An inherited extractor takes every setting "
            f"it does not set from tap-quickbooks: set {prefix}_REALM_ID and {prefix}_REFRESH_TOKEN (in .env) to "
            f"the other company's. If you renamed {owner} to {extractor}, delete {claim}.")
    if owner is None:
        _write_json_atomically(claim, {"extractor": extractor, "realm_id": realm_id})


def _parse_time(text: str, fallback: dt.datetime) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_report_restatement(state: dict, start_date: str, now: dt.datetime, days: int) -> dict:
    """Move the P&L bookmark back so the last `days` days are read again (never before start_date)."""
    bookmarks = state.setdefault("bookmarks", {})
    current = bookmarks.get("profit_loss_report", {}).get("LastUpdatedTime")
    if not current:
        return state  # first run: the tap reads everything from start_date
    window_start = max(now - dt.timedelta(days=days), _parse_time(start_date, now))
    if _parse_time(current, now) > window_start:
        bookmarks["profit_loss_report"] = {"LastUpdatedTime": _iso(window_start)}
    return state


def bounded_cdc_state(state: dict, start_date: str, now: dt.datetime) -> dict:
    """Return the state with the deleted_objects bookmark no older than the API accepts."""
    earliest = now - CDC_LOOKBACK
    if not state.get("bookmarks"):  # a first load: guarded_tap.py starts the feed at its start (QuickBooks' clock)
        return state
    bookmarks = state.setdefault("bookmarks", {})
    current = bookmarks.get("deleted_objects", {}).get("LastUpdatedTime") or start_date
    current_time = _parse_time(current, earliest)
    if current_time < earliest:
        if "deleted_objects" in bookmarks and bookmarks["deleted_objects"].get("LastUpdatedTime"):
            log(
                "WARNING: the last sync of deletions was more than 30 days ago; QuickBooks keeps "
                "only 30 days of change history, so older deletions may be missing. "
                "To start clean: drop the raw_quickbooks schema and `meltano state clear "
                "<environment>:tap-quickbooks-to-target-postgres`, then run the quickbooks job."
            )
        bookmarks["deleted_objects"] = {"LastUpdatedTime": _iso(earliest)}
    return state


def route_to_sandbox(config: dict) -> None:
    """In dev the tap reaches the sandbox through its local proxy, trusting the sandbox's CA.

    Set only for the tap's process, from the `https_proxy` and `ca_bundle` settings. Fails fast
    when the sandbox is not up: the tap would retry a refused connection three times, a minute
    apart, before giving up.
    """
    proxy = str(config.get("https_proxy") or "")
    if not proxy:
        return
    bundle = Path(str(config.get("ca_bundle") or ""))
    if not bundle.is_absolute():
        bundle = _project_root() / bundle
    parsed = urlparse(proxy)
    with socket.socket() as sock:
        sock.settimeout(1)
        if sock.connect_ex((parsed.hostname or "127.0.0.1", parsed.port or 80)) != 0:
            raise ConfigError(
                f"The QuickBooks sandbox is not running (nothing listens on {parsed.hostname}:{parsed.port}). "
                "Start it with `make sandbox-start`, or run against the real API with --environment=prod."
            )
    if not bundle.is_file():
        raise ConfigError(
            f"The sandbox's CA certificate {bundle} is missing. Start the sandbox with `make sandbox-start`."
        )
    os.environ["HTTPS_PROXY"] = proxy
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)


# Known failures of the tap, by a telling fragment of its log: (fragment, cause and fix).
DIAGNOSES = [
    ("invalid_grant",
     "QuickBooks refused the refresh token (invalid_grant): it has expired (100 days unused, or "
     "5 years old) or was revoked. Fix: reconnect your company in Intuit's OAuth 2.0 Playground, "
     "put the new token in TAP_QUICKBOOKS_REFRESH_TOKEN (.env) and run again."),
    ("invalid_client",
     "QuickBooks refused the app's credentials (invalid_client). Fix: check TAP_QUICKBOOKS_CLIENT_ID "
     "and TAP_QUICKBOOKS_CLIENT_SECRET against the Intuit developer portal (Keys & credentials)."),
    ("ThrottleExceeded",
     "QuickBooks throttled the sync (HTTP 429, ThrottleExceeded: 500 requests a minute per company). "
     "Nothing past the last loaded page was marked as synced. Fix: run again in a few minutes."),
    ("HTTP-error-code: 429",
     "QuickBooks throttled the sync (HTTP 429). Nothing past the last loaded page was marked as "
     "synced. Fix: run again in a few minutes."),
    ("ApplicationAuthorizationFailed",
     "QuickBooks refused the company id (ApplicationAuthorizationFailed, 3100): the app is not connected to "
     "that company. Fix: set TAP_QUICKBOOKS_REALM_ID to the company id the refresh token was issued for "
     "(Intuit developer portal, or the URL of QuickBooks Online), or reconnect the app to this company."),
    ("Token expired",
     "QuickBooks' access token expired while a request was under way (they live one hour; the tap "
     "renews them between requests). Nothing past the last loaded page was marked as synced. "
     "Fix: run again."),
    ("3200",
     "QuickBooks rejected the access token (AuthenticationFailed, 3200). Fix: check "
     "TAP_QUICKBOOKS_REALM_ID and that the app is still connected to this company; reconnect it if not."),
    ("JSONDecodeError",
     "QuickBooks answered a page that is not valid JSON (cut off or corrupted on the way). Nothing "
     "past the last loaded page was marked as synced. Fix: run again; if it persists, check "
     "https://status.developer.intuit.com."),
    ("ProxyError",
     "Could not reach QuickBooks through the proxy in HTTPS_PROXY. In dev, start the sandbox with "
     "`make sandbox-start`."),
    ("ConnectionError",
     "Could not connect to QuickBooks (network error). Fix: check the machine's network and "
     "https://status.developer.intuit.com, then run again."),
    ("Max retries exceeded",
     "Could not connect to QuickBooks (network error). Fix: check the machine's network, then run again."),
]


def diagnose(log_text: str) -> str:
    for line in reversed(log_text.splitlines()):
        for guard in ("BatchItemFault: ", "ChangeFeedTruncated: ", "NotAReport: "):  # ours: cause and fix
            if guard in line:
                return line.split(guard, 1)[1].strip()
    for fragment, message in DIAGNOSES:
        if fragment in log_text:
            return message
    return "tap-quickbooks failed; its log above says why."


def _tap_executable() -> str:
    beside_us = Path(sys.executable).parent / "tap-quickbooks"
    return str(beside_us) if beside_us.exists() else "tap-quickbooks"


def run(args: list[str]) -> int:
    config_path_arg = _arg_value(args, "--config")
    if not config_path_arg:
        os.execvp(_tap_executable(), [_tap_executable(), *args])  # e.g. --help: nothing to guard
    config_path = Path(config_path_arg)
    config = json.loads(config_path.read_text())
    check_config(config)
    route_to_sandbox(config)

    extractor = os.environ.get("MELTANO_EXTRACTOR_NAME")   # Meltano's name for the plugin it runs
    store = TokenStore(
        Path(config.get("token_store_path") or default_token_store_path(str(config["realm_id"]))),
        str(config["realm_id"]), str(config["client_id"]), str(config["refresh_token"]), extractor,
    )
    store.check_company()
    if "--discover" not in args:   # discovery reads no company's data: it claims none
        claim_company(store.path.parent, str(config["realm_id"]), extractor)
    secrets = {str(config.get(key)) for key in SECRET_SETTINGS if config.get(key)}
    config["refresh_token"] = store.current_token()
    secrets.add(config["refresh_token"])
    _write_json_atomically(config_path, config)

    tap_args = list(args)
    temp_state = None
    if "--discover" not in args:
        state_path = _arg_value(args, "--state")
        state = json.loads(Path(state_path).read_text()) if state_path else {}
        now = dt.datetime.now(dt.timezone.utc)
        state = bounded_cdc_state(state or {}, str(config["start_date"]), now)
        days = config.get("report_restatement_days")   # 0 is a choice: re-read no day
        restatement_days = DEFAULT_REPORT_RESTATEMENT_DAYS if days is None else int(days)
        state = with_report_restatement(state, str(config["start_date"]), now, restatement_days)
        fd, temp_state = tempfile.mkstemp(prefix="tap-quickbooks-state.", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(state, out)
        if state_path:
            tap_args[tap_args.index("--state") + 1] = temp_state
        else:
            tap_args += ["--state", temp_state]

    def capture_rotated_token() -> None:
        try:
            written = json.loads(config_path.read_text()).get("refresh_token")
        except (OSError, json.JSONDecodeError):
            return  # the tap is mid-write; the next poll sees the whole file
        if written:
            secrets.add(written)
            if store.save(written):
                log(f"Saved the rotated QuickBooks refresh token to {store.path}")
        access = json.loads(config_path.read_text()).get("access_token") if written else None
        if access:
            secrets.add(access)

    # the community tap, through guarded_tap.py (a batch answered 200 with a Fault stops the run)
    process = subprocess.Popen([sys.executable, "-m", "tap_quickbooks_wrapper.guarded_tap", *tap_args],
                               stderr=subprocess.PIPE, text=True, bufsize=1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: process.send_signal(signum))

    done = threading.Event()

    def watch_config() -> None:
        last_mtime = config_path.stat().st_mtime_ns
        while not done.wait(0.2):
            try:
                mtime = config_path.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            if mtime != last_mtime:
                last_mtime = mtime
                capture_rotated_token()

    watcher = threading.Thread(target=watch_config, daemon=True)
    watcher.start()

    log_tail: list[str] = []
    assert process.stderr is not None
    for line in process.stderr:
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 6:
                line = line.replace(secret, "****")
        sys.stderr.write(line)
        log_tail = (log_tail + [line])[-200:]
    returncode = process.wait()
    done.set()
    watcher.join()
    capture_rotated_token()
    if temp_state:
        os.unlink(temp_state)

    if returncode != 0:
        log("ERROR: " + diagnose("".join(log_tail)))
    return returncode


def main() -> None:
    try:
        sys.exit(run(sys.argv[1:]))
    except ConfigError as error:
        log(f"ERROR: {error}")
        sys.exit(2)


if __name__ == "__main__":
    main()
