"""Processes the local services leave running: found by a pid file, signalled only after their
command line shows they are what the file says (a pid is reused once its process is gone)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from hubimages.core.waiting import wait_until

PROXY_PID_FILE = "jupyterhub-proxy.pid"  # JupyterHub writes it in its folder
PROXY_COMMAND = b"configurable-http-proxy"


def command_line(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def runs(pid: int, marker: bytes) -> bool:
    """Whether process `pid` exists and one of its arguments contains `marker`."""
    return any(marker in part for part in command_line(pid))


def terminate(pid: int, timeout: float = 10) -> None:
    """SIGTERM, wait for it to go (bounded), then SIGKILL and wait again: when this returns
    the process is gone and its ports are free (a loaded machine was seen past the first
    wait)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    _wait_gone(pid, timeout)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _wait_gone(pid, timeout)


def _wait_gone(pid: int, timeout: float) -> None:
    # A process that exited has an empty command line (a zombie) or none.
    wait_until(lambda: not command_line(pid), timeout, interval=0.05)


def stop_leftover_proxy(hub_root: Path) -> int | None:
    """The proxy a killed hub left (its pid file names it): stopped; its pid, or None."""
    pid_file = hub_root / PROXY_PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    stopped = None
    if runs(pid, PROXY_COMMAND):
        terminate(pid)
        stopped = pid
    pid_file.unlink(missing_ok=True)
    return stopped


def stop_services_in(folder: Path, marker: bytes) -> list[int]:
    """Processes running `marker` with `folder` as their working directory (a hub's managed
    services: a hub killed or stopped hard leaves them): stopped; their pids."""
    stopped = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == str(folder.resolve()) and runs(int(entry.name), marker):
            terminate(int(entry.name))
            stopped.append(int(entry.name))
    return stopped
