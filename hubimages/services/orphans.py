"""A service the hub starts ends with the hub: JupyterHub stops its services when it stops,
but after a crash (SIGKILL) they would live on in sessions of their own, holding their ports.
Each one watches its parent and winds down when it is gone."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

INTERVAL = 2.0  # seconds between looks


def when_orphaned(stop: Callable[[], None], interval: float = INTERVAL) -> threading.Thread:
    """Call `stop` once the process that started this one has exited (a daemon thread)."""
    parent = os.getppid()
    gone = threading.Event()

    def watch() -> None:
        while not gone.wait(interval):
            if os.getppid() != parent:
                gone.set()
                stop()

    thread = threading.Thread(target=watch, daemon=True, name="when-orphaned")
    thread.start()
    return thread
