"""The dev environment's settings that carry the sandbox's addresses.

meltano.yml's dev environment points each tap at the sandbox on its default ports: the API on
8765, the TLS-intercepting proxy the QuickBooks tap goes through on 8766. A sandbox on other
ports needs each of those settings moved with it, through Meltano's setting variables. The
sandbox's port-conflict advice (cli.py) and the test stacks (tests/private_stack.py) both take
them from here, sources added from the template included.
"""
from __future__ import annotations

from . import vendors

# The other businesses meltano.yml's dev environment declares (tap-<vendor>--<instance>, served
# with SANDBOX_INSTANCES=<vendor>:<instance>): their API URLs move with the port too (a second
# QuickBooks company is reached through the same proxy, by its realm id).
DEV_INSTANCES = {"shopify": ("second",), "quickbooks": ("second",), "attio": ("second",), "ga4": ("second",)}


def api_urls(host: str, port: int) -> dict[str, str]:
    """TAP_<SOURCE>_API_URL for every tap served on the sandbox's API port (every vendor whose
    API_PATH is set: the QuickBooks tap reaches Intuit's own hosts through the proxy instead), and
    TAP_<SOURCE>__<INSTANCE>_API_URL for each dev instance."""
    paths = {name: package.API_PATH for name, package in vendors.discover().items() if package.API_PATH}
    urls = {f"TAP_{name.upper()}_API_URL": f"http://{host}:{port}{path}" for name, path in paths.items()}
    for name, instances in DEV_INSTANCES.items():
        for instance in instances if name in paths else ():
            urls[f"TAP_{name.upper()}__{instance.upper()}_API_URL"] = f"http://{host}:{port}/instances/{instance}{paths[name]}"
    return urls


def instances_setting() -> str:
    """SANDBOX_INSTANCES for a sandbox that serves every dev instance (the test stacks')."""
    return ",".join(f"{name}:{instance}" for name, instances in DEV_INSTANCES.items() for instance in instances)


def proxy(host: str, proxy_port: int) -> dict[str, str]:
    """What the QuickBooks tap, whose Intuit hosts are constants, reaches the sandbox through."""
    return {"TAP_QUICKBOOKS_HTTPS_PROXY": f"http://{host}:{proxy_port}"}


def export_line(settings: dict[str, str]) -> str:
    return "export " + " ".join(f"{name}={value}" for name, value in settings.items())
