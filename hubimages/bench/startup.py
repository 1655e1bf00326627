"""Seconds from `docker run` to the server's /api answering, over several runs."""

from __future__ import annotations

import time
import urllib.request

from docker import DockerClient

from hubimages.bench import BENCH_LABEL
from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError

STARTUP_RUNS = 5
STARTUP_TIMEOUT_S = 60
TOKEN = "benchmark-token"  # noqa: S105 - a throwaway token for a local container


def startup_seconds(client: DockerClient, ref: str, runs: int = STARTUP_RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        container = client.containers.run(
            ref, detach=True, labels=BENCH_LABEL, environment={"JUPYTER_TOKEN": TOKEN}
        )
        try:
            container.reload()
            address = container.attrs["NetworkSettings"]["IPAddress"]
            times.append(_wait_for(f"http://{address}:8888/api?token={TOKEN}", started))
        finally:
            container.remove(force=True)
    return times


def _wait_for(url: str, started: float) -> float:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def answered() -> float | None:
        try:
            with opener.open(url, timeout=1) as response:
                return time.monotonic() - started if response.status == 200 else None
        except OSError:
            return None

    seconds = wait_until(answered, STARTUP_TIMEOUT_S - (time.monotonic() - started), 0.05)
    if seconds is not None:
        return seconds
    raise HubImagesError(f"{url} did not answer within {STARTUP_TIMEOUT_S}s")
