"""Build numbers: a cold build of the base, a no-op rebuild of the whole matrix."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docker import DockerClient

from hubimages.bench import bench_namespace
from hubimages.builder.run import BuildStatus, new_run
from hubimages.builder.scheduler import build_images
from hubimages.ci.affected import MATRIX_FILE
from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.spec import NAMESPACE_ENV, Matrix


def cold_base_build(client: DockerClient, matrix: Matrix) -> tuple[float, int]:
    """Build base from nothing: a fresh cache (rootfs, wheels) and a namespace of its own."""
    namespace = bench_namespace(matrix.settings.namespace)
    settings = dataclasses.replace(matrix.settings, namespace=namespace)
    bench_matrix = dataclasses.replace(matrix, settings=settings)
    with tempfile.TemporaryDirectory(prefix="hubimages-bench-") as cache:
        layout = CacheLayout(Path(cache), matrix.variant.name)
        run = new_run(client, bench_matrix, layout, forced=frozenset({"base"}))
        started = time.monotonic()
        try:
            [result] = build_images(run, ["base"], jobs=1)
            seconds = time.monotonic() - started
        finally:
            remove_namespace(client, namespace)
    if result.status is not BuildStatus.BUILT:
        raise HubImagesError(f"cold build of base failed: {result.reason}")
    return seconds, result.size


def remove_namespace(client: DockerClient, namespace: str) -> None:
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{namespace}/"):
                client.images.remove(tag, force=True)


def noop_rebuild_seconds(matrix: Matrix, variants: list[str]) -> float:
    """Wall time of a whole `invoke build` of the variants when nothing changed, process
    start included.

    The checkout's matrix is given by its namespace, not by --matrix: a --matrix file is built
    into its own namespace, and the benchmark must find the images it just built."""
    command = [sys.executable, "-m", "invoke", "build", *(f"--variant={v}" for v in variants)]
    if matrix.path.resolve() != (matrix.root / MATRIX_FILE).resolve():
        command.append(f"--matrix={matrix.path}")
    env = {**os.environ, NAMESPACE_ENV: matrix.settings.namespace}
    started = time.monotonic()
    subprocess.run(command, cwd=matrix.root, check=True, capture_output=True, env=env)
    return time.monotonic() - started
