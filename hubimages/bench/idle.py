"""CPU an idle server container spends (its HEALTHCHECK included), per 30 s of wall time."""

from __future__ import annotations

import time

from docker import DockerClient
from docker.models.containers import Container

from hubimages.bench import BENCH_LABEL
from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError

WINDOW_S = 30
SETTLE_S = 10  # after the first healthy check: the server's own start-up work is over
HEALTHY_TIMEOUT_S = 60


def idle_cpu_seconds(client: DockerClient, ref: str, window: float = WINDOW_S) -> float:
    """CPU seconds of the container's cgroup (server, kernels none, health checks) per window."""
    container = client.containers.run(ref, detach=True, labels=BENCH_LABEL)
    try:
        _wait_healthy(container, ref)
        time.sleep(SETTLE_S)
        before, started = _cpu_seconds(container), time.monotonic()
        time.sleep(window)
        used, elapsed = _cpu_seconds(container) - before, time.monotonic() - started
    finally:
        container.remove(force=True)
    return used * window / elapsed


def _wait_healthy(container: Container, ref: str) -> None:
    def healthy() -> bool:
        container.reload()
        return bool(container.attrs["State"].get("Health", {}).get("Status") == "healthy")

    if wait_until(healthy, HEALTHY_TIMEOUT_S, interval=0.5):
        return
    raise HubImagesError(f"{ref}: not healthy within {HEALTHY_TIMEOUT_S}s; no idle CPU number")


def _cpu_seconds(container: Container) -> float:
    stats = container.stats(stream=False)
    if not isinstance(stats, dict):
        raise HubImagesError(f"container {container.short_id}: the engine sent no CPU statistics")
    return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
