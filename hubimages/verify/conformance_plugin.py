"""pytest plugin loaded into docker-stacks' own test suite by `invoke conformance` (their suite
stays unmodified; this runs in the suite's venv, which has the docker SDK).

- Every container and network the suite creates gets the label LABEL, so that the task removes
  whatever an interrupted run leaves behind.
- test_ips creates its dual-stack network with an IPAMPool as `ipam`; engines older than 27
  (Debian's docker.io 20.10) read that as no IPAM configuration and refuse an IPv6 network
  without a default IPv6 pool. The pool is handed over wrapped in an IPAMConfig, which every
  engine reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from docker.models.containers import ContainerCollection
from docker.models.networks import NetworkCollection
from docker.types import IPAMConfig, IPAMPool

LABEL = "hubimages.conformance"

_originals: dict[str, Callable[..., Any]] = {}


def _labelled(original: Callable[..., Any]) -> Callable[..., Any]:
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["labels"] = {**(kwargs.get("labels") or {}), LABEL: "1"}
        if isinstance(kwargs.get("ipam"), IPAMPool):
            kwargs["ipam"] = IPAMConfig(pool_configs=[kwargs["ipam"]])
        return original(self, *args, **kwargs)

    return create


def pytest_configure(config: pytest.Config) -> None:
    # containers.run() calls create(): wrapping create() covers both.
    for name, collection in (("containers", ContainerCollection), ("networks", NetworkCollection)):
        _originals[name] = collection.create
        collection.create = _labelled(collection.create)  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    ContainerCollection.create = _originals.pop("containers")  # type: ignore[method-assign]
    NetworkCollection.create = _originals.pop("networks")  # type: ignore[method-assign]
