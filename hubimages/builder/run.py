"""What every image of one build run shares: engine, matrix, cache, index, provenance, cancel."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum

from docker import DockerClient

from hubimages.builder.labels import Provenance
from hubimages.builder.tagging.release_tag import ReleaseTag
from hubimages.core.cache import CacheLayout
from hubimages.core.clock import build_time, utc_date
from hubimages.core.git import revision
from hubimages.deps.catalog import LocalWheelCatalog
from hubimages.deps.index import PackageIndex
from hubimages.model.spec import Matrix


class BuildStatus(Enum):
    BUILT = "built"
    UP_TO_DATE = "up to date"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        return self in (BuildStatus.BUILT, BuildStatus.UP_TO_DATE)


@dataclass
class BuildResult:
    name: str
    status: BuildStatus
    reason: str
    image_id: str | None = None
    tags: list[str] = field(default_factory=list)
    size: int = 0
    seconds: float = 0.0
    variant: str = ""  # the matrix variant it was built in


@dataclass(frozen=True)
class BuildRun:
    client: DockerClient
    matrix: Matrix
    cache: CacheLayout
    provenance: Provenance
    index: PackageIndex
    catalog: LocalWheelCatalog
    forced: frozenset[str] = frozenset()  # rebuilt even when up to date (named with --force)
    cancel: threading.Event = field(default_factory=threading.Event)


def provenance_now(matrix: Matrix) -> Provenance:
    """The revision, its public source URL and the release tag, decided once for the run (and
    for every variant a command builds)."""
    rev = revision(matrix.root)
    tag = ReleaseTag(utc_date(build_time()), rev.short)
    return Provenance(revision=rev.full, source=rev.source, tag=tag)


def new_run(
    client: DockerClient,
    matrix: Matrix,
    cache: CacheLayout,
    forced: frozenset[str] = frozenset(),
    provenance: Provenance | None = None,
) -> BuildRun:
    index = PackageIndex(matrix.settings.index_url)
    catalog = LocalWheelCatalog.of_images(matrix.images_folder, index, cache)
    return BuildRun(
        client=client,
        matrix=matrix,
        cache=cache,
        provenance=(provenance or provenance_now(matrix)).for_variant(matrix.variant),
        index=index,
        catalog=catalog,
        forced=forced,
    )
