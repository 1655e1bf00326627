"""What a release does with the workflows of build-matrix.yaml (docs/workflows.md): their
repositories checked before anything is built, each run headless on its environment's image
after that image's container tests (a failure holds the release back like a failing test), and
with the release record, which workflow passed on which digest and the catalogue."""

from __future__ import annotations

import logging

from hubimages.core.cache import CacheLayout
from hubimages.model.spec import Matrix
from hubimages.publish.catalogue import CatalogueFiles, write_catalogue
from hubimages.publish.records import Release
from hubimages.publish.store import ReleaseStore
from hubimages.publish.workflow_records import release_passes, write_passes
from hubimages.verify.workflow_source import prepare_sources
from hubimages.verify.workflows import WorkflowContext, failures_message, prove_workflows

log = logging.getLogger(__name__)


def workflow_failure(
    context: WorkflowContext, environment: str, image_id: str, retest: bool
) -> str | None:
    """Why the environment may not be released (its workflows' failures), or None."""
    records = prove_workflows(context, environment, image_id, retest)
    if all(record.passed for record in records):
        return None
    return failures_message(
        environment, context.matrix.variant.name, records, str(context.cache.workflow_runs)
    )


def record_workflows(
    matrix: Matrix, cache: CacheLayout, store: ReleaseStore, release: Release
) -> CatalogueFiles:
    """releases/<tag>/workflows.json, then the catalogue of every release recorded."""
    sources = prepare_sources(matrix, cache)
    passes = release_passes(matrix, cache, sources, release)
    write_passes(store, release.tag, passes)
    files = write_catalogue(matrix, store, cache, sources)
    log.info(
        "release %s: %d workflows passed on its digests; catalogue %s (%d of %d runnable)",
        release.tag,
        len(passes),
        files.page,
        files.runnable,
        files.workflows,
    )
    return files
