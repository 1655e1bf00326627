"""Seconds from `docker run` to the server's /api answering, over several runs."""

from __future__ import annotations

import time
import urllib.request

from docker import DockerClient

from hubimages.bench import BENCH_LABEL
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
    while time.monotonic() - started < STARTUP_TIMEOUT_S:
        try:
            with opener.open(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise HubImagesError(f"{url} did not answer within {STARTUP_TIMEOUT_S}s")
