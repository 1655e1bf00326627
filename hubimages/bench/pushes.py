"""Push times and compressed sizes against an empty local registry."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from docker import DockerClient

from hubimages.bench import BENCH_NAMESPACE
from hubimages.model.lineage import build_order
from hubimages.model.spec import Matrix
from hubimages.publish.push import push_tag
from hubimages.publish.registry import RegistryClient
from hubimages.publish.target import RegistryTarget
from hubimages.services.localregistry import LocalRegistry


def push_timings(client: DockerClient, matrix: Matrix) -> dict[str, object]:
    """Each image in build order (its parent's layers are already there, as in a release),
    then the same again (what a rerun costs)."""
    numbers: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="hubimages-bench-registry-") as root:
        registry = LocalRegistry(Path(root))
        registry.start()
        target = RegistryTarget(registry.host, BENCH_NAMESPACE)
        try:
            for name in build_order(matrix):
                numbers.update(_push_one(client, matrix, target, name))
        finally:
            registry.stop()
            _remove_repository_tags(client, registry.host)
    return numbers


def _push_one(
    client: DockerClient, matrix: Matrix, target: RegistryTarget, name: str
) -> dict[str, object]:
    image_id = str(client.images.get(matrix.local_ref(name)).id)
    repository = target.repository(name)
    started = time.monotonic()
    push_tag(client, image_id, repository, "bench", None)
    first = time.monotonic() - started
    started = time.monotonic()
    push_tag(client, image_id, repository, "bench-again", None)
    again = time.monotonic() - started
    remote = RegistryClient(target).manifest(name, "bench")
    return {
        f"{name}_push_s": round(first, 1),
        f"{name}_repush_s": round(again, 2),
        f"{name}_compressed_mb": round((remote.layers_size if remote else 0) / 1e6),
    }


def _remove_repository_tags(client: DockerClient, host: str) -> None:
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{host}/"):
                client.images.remove(tag)
