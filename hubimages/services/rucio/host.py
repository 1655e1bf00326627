"""Host plumbing of the local Rucio deployment: commands with one-line errors, service users,
free ports, certificates, waiting for an HTTPS endpoint, stopping a process group."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError

SETUP_HINT = "run ./setup.sh (it installs Debian's postgresql, apache2 and openssl)"


def is_root() -> bool:
    return os.geteuid() == 0


def as_user(user: str, cmd: list[str]) -> list[str]:
    """`cmd` run as a service user when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", user, "--", *cmd] if is_root() else cmd


def give_to(user: str, *paths: Path) -> None:
    """Hand folders to a service user (only root can, and only root needs to)."""
    if is_root():
        for path in paths:
            subprocess.run(["chown", "-R", f"{user}:{user}", str(path)], check=True)


def run(cmd: list[str], what: str, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    """Run to completion; a failure raises one line: what failed and the last line it said."""
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise HubImagesError(f"{what}: {cmd[0]} is not installed: {SETUP_HINT}") from None
    except subprocess.TimeoutExpired:
        raise HubImagesError(f"{what}: no answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise HubImagesError(f"{what} failed (exit {done.returncode}): {said}")
    return done.stdout


def make_certificate(cert: Path, key: Path, common_name: str, ip: str | None = None) -> None:
    """A self-signed EC certificate (valid a week), for an IP address when `ip` is given."""
    cmd = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "7",
        "-subj",
        f"/CN={common_name}",
        "-keyout",
        str(key),
        "-out",
        str(cert),
    ]
    if ip:
        cmd += ["-addext", f"subjectAltName=IP:{ip}"]
    run(cmd, f"openssl: certificate for {common_name}")


def answers(url: str, ca: Path) -> bool:
    """Whether an HTTPS URL answers at all (any HTTP status), trusting only `ca`."""
    context = ssl.create_default_context(cafile=str(ca))
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_for(
    url: str, ca: Path, what: str, alive: Callable[[], bool], log: Path, timeout: float = 60
) -> None:

    def started() -> bool:
        if answers(url, ca):
            return True
        if not alive():
            raise HubImagesError(f"{what} exited at start: see {log}")
        return False

    if not wait_until(started, timeout):
        raise HubImagesError(f"{what} did not answer {url} within {timeout:.0f} s: see {log}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(
    pid: int,
    sig: int = signal.SIGTERM,
    timeout: float = 15,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Signal the process group `pid` leads, wait for its leader, then kill what is left."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    # Our own child must be reaped, or it stays a zombie that kill(0) still finds.
    wait_until(
        lambda: process.poll() is not None if process is not None else not pid_alive(pid),
        timeout,
        interval=0.05,
    )
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if process is not None:
        process.wait(timeout=5)
