"""The local identity provider's and Rucio deployment's start and stop times (the goals: each
started within 30 s), Rucio trusting the provider as `invoke rucio-site --auth oidc` does."""

from __future__ import annotations

import time

from docker import DockerClient

from hubimages.bench import bench_namespace
from hubimages.core.cache import CacheLayout
from hubimages.model.spec import Matrix
from hubimages.services.idp.provider import LocalIdp
from hubimages.services.rucio.deployment import LocalRucio, service_files
from hubimages.services.tls import SiteCA


def rucio_timings(client: DockerClient, matrix: Matrix, cache: CacheLayout) -> dict[str, object]:
    """Start the provider, then Rucio (its venv made first, not timed), stop both; seconds,
    and each part's."""
    provider = LocalIdp(
        matrix.root / "services" / "idp",
        cache.root / "bench-idp",
        SiteCA(cache.site_ca),
        bench_namespace(matrix.settings.namespace),
        client,
        modules=cache.idp / "provider",
    )
    numbers: dict[str, object] = {}
    try:
        idp = provider.start()
        numbers["idp_start_s"] = idp.started_in
        local = LocalRucio(
            service_files(matrix.root),
            cache,
            bench_namespace(matrix.settings.namespace),
            matrix.settings.index_url,
            client,
            idp=idp,
        )
        with local as site:
            numbers["rucio_start_s"] = site.started_in
            parts = dict(local.timings)
            stopping = time.monotonic()
        numbers["rucio_stop_s"] = round(time.monotonic() - stopping, 1)
        numbers.update({f"rucio_start_{key}_s": value for key, value in parts.items()})
    finally:
        stopping = time.monotonic()
        provider.stop()
        numbers["idp_stop_s"] = round(time.monotonic() - stopping, 1)
    return numbers
