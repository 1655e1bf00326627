"""How registry operations fail and are tried again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hubimages.errors import HubImagesError

log = logging.getLogger(__name__)

T = TypeVar("T")


class RegistryError(HubImagesError):
    """The registry said no, or could not be reached; the message says which and what to do."""


class RetryableError(RegistryError):
    """Worth another try: connection refused or reset, timeouts, 5xx, 429."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    first_delay: float = 1.0


def with_retries(action: Callable[[], T], what: str, policy: RetryPolicy | None = None) -> T:
    """Run action; on a RetryableError wait 1, 2, 4... x first_delay and try again."""
    policy = policy or RetryPolicy()
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except RetryableError as exc:
            if attempt == policy.attempts:
                raise RegistryError(
                    f"{what}: {exc}; gave up after {policy.attempts} attempts: "
                    "check the registry, then rerun (finished pushes are kept)"
                ) from None
            delay = policy.first_delay * 2 ** (attempt - 1)
            log.warning(
                "%s: %s; attempt %d/%d, retrying in %.1fs",
                what,
                exc,
                attempt,
                policy.attempts,
                delay,
            )
            time.sleep(delay)
    raise RegistryError(f"{what}: no attempt was made (--retries must be at least 1)")
