"""Debian's Chromium, driven by Playwright (Playwright's own browser download cannot work here).

Headless, a fresh profile each time, and none of Chromium's background traffic (updates, sync,
metrics) that a closed network refuses. Console errors, page errors and failed requests are
kept for the report.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, sync_playwright

from hubimages.builder.host import ensure_debian_tools

# The binary itself, not Debian's /usr/bin/chromium wrapper script (it adds flags of its own).
CHROMIUM = Path("/usr/lib/chromium/chromium")
DEBIAN = Path("/etc/os-release")
# Playwright passes --headless, --no-sandbox and the background-networking flags itself; do not
# pass --disable-features: Chromium keeps only the last one, which would drop Playwright's.
FLAGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-domain-reliability",
    "--no-default-browser-check",
]


# Chromium aborts the requests in flight when an interface of the host changes, as when Docker
# plugs a new container into a bridge (a user server starting): the host's doing, not the page's.
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


@dataclass
class Console:
    """What the page said that a user would not see: errors and failed requests (apart from
    those a change of the host's interfaces caused, only counted)."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    network_changes: int = 0

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error" and NETWORK_CHANGED in message.text:
            self.network_changes += 1
        elif message.type == "error":
            self.errors.append(message.text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def on_failed(self, request: Request) -> None:
        reason = request.failure or ""
        # ERR_ABORTED: a navigation cancelled it, not a failure
        if "ERR_ABORTED" not in reason and NETWORK_CHANGED not in reason:
            self.failed.append(f"{request.method} {request.url}: {reason}")

    def tail(self, lines: int = 15) -> list[str]:
        return [*self.errors, *self.failed][-lines:]


def spki_pin(cert: Path) -> str:
    """The base64 sha256 of a certificate's public key, as Chromium pins one."""
    key = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"],
        capture_output=True,
        check=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=key, capture_output=True, check=True
    ).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def chromium_executable() -> str | None:
    """Debian's Chromium; elsewhere (GitHub's Ubuntu runners, where chromium is a snap stub)
    None: the browser `playwright install chromium` put in Playwright's own folder."""
    if not DEBIAN.is_file() or "ID=debian" not in DEBIAN.read_text().split():
        return None
    ensure_debian_tools({"chromium": "chromium"})
    return str(CHROMIUM)


@contextmanager
def open_browser(console: Console, trusted: tuple[Path, ...] = ()) -> Iterator[Page]:
    """Chromium; `trusted`: server certificates it accepts although no CA it knows signed them
    (the local services', pinned by their keys: every other certificate is still checked)."""
    executable = chromium_executable()
    pins = [spki_pin(cert) for cert in trusted]
    flags = [*FLAGS, *([f"--ignore-certificate-errors-spki-list={','.join(pins)}"] if pins else [])]
    profile = tempfile.mkdtemp(prefix="hubimages-e2e-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=flags,
                viewport={"width": 1400, "height": 900},
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.on("console", console.on_message)
                page.on("pageerror", console.on_page_error)
                page.on("requestfailed", console.on_failed)
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
