"""One way to wait: poll a condition until it holds or the time is up. Nothing waits longer.

The condition returns something truthy when it holds (that value is returned) and may raise to
stop at once (a process that died while it was awaited). At the deadline the caller decides
what the wait meant: `wait_until` returns None, and the caller raises its own one-line error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, interval: float = 0.1) -> T | None:
    """`condition()`'s first truthy value, or None once `timeout` seconds have passed; it is
    asked at least once, and again every `interval` seconds (never past the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(interval, remaining))
