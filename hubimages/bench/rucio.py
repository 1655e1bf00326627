"""The local Rucio deployment's start and stop times (the goal: started within 60 s)."""

from __future__ import annotations

import time

from docker import DockerClient

from hubimages.bench import bench_namespace
from hubimages.core.cache import CacheLayout
from hubimages.model.spec import Matrix
from hubimages.services.rucio.deployment import LocalRucio, service_files


def rucio_timings(client: DockerClient, matrix: Matrix, cache: CacheLayout) -> dict[str, object]:
    """Start it (its venv made first, not timed), stop it; seconds, and each part's."""
    local = LocalRucio(
        service_files(matrix.root),
        cache,
        bench_namespace(matrix.settings.namespace),
        matrix.settings.index_url,
        client,
    )
    with local as site:
        started_in = site.started_in
        parts = dict(local.timings)
        stopping = time.monotonic()
    numbers: dict[str, object] = {
        "rucio_start_s": started_in,
        "rucio_stop_s": round(time.monotonic() - stopping, 1),
    }
    numbers.update({f"rucio_start_{key}_s": value for key, value in parts.items()})
    return numbers
