"""`invoke release`: build, test, audit, push and sign, then write inventories, history and
profiles, in order, for one variant or several.

Every variant is built, tested and gated (tags, key, the vulnerability gate against its own
suite: publish.staging) before the first push of any; then each variant is pushed, signed and
recorded in turn. A step starts only when the one before succeeded for every image, so a failing
test, a blocking finding or a registry fault leaves that variant's history and the profiles as
they were. A rerun finds the images built and tested (same image ids) and the pushes done, and
completes the release.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from hubimages.builder.dirty import uncommitted_inputs
from hubimages.builder.run import BuildResult, BuildRun
from hubimages.builder.scheduler import build_variants, failed
from hubimages.builder.tagging.release_tag import ReleaseTag
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order, descendants
from hubimages.model.spec import Matrix
from hubimages.publish.inventory import Inventory, build_inventory
from hubimages.publish.profiles import write_profiles
from hubimages.publish.publisher import Publisher, ReleaseError
from hubimages.publish.records import Release, current_releases
from hubimages.publish.registry import RegistryClient
from hubimages.publish.remote import pulled_inventory, registry_history, resolve_release
from hubimages.publish.staging import push_staged, stage
from hubimages.publish.workflow_release import record_workflows, workflow_failure
from hubimages.verify.results import gate_refusal
from hubimages.verify.runner import run_container_tests
from hubimages.verify.selection import suite_sha256
from hubimages.verify.workflow_source import prepare_sources
from hubimages.verify.workflows import WorkflowContext

log = logging.getLogger(__name__)


def release_images(
    run: BuildRun,
    publisher: Publisher,
    names: list[str],
    retest: bool = False,
    jobs: int = 2,
    pytest_args: list[str] | None = None,
) -> Release:
    return release_variants([(run, publisher)], names, retest, jobs, pytest_args)[0]


def release_variants(
    variants: list[tuple[BuildRun, Publisher]],
    names: list[str],
    retest: bool = False,
    jobs: int = 2,
    pytest_args: list[str] | None = None,
) -> list[Release]:
    """Every variant built, then tested (and its workflows run), then pushed: a variant that
    fails holds back all. A variant that excludes every named image has nothing to release."""
    variants = [
        (r, p) for r, p in variants if not names or any(n in r.matrix.images for n in names)
    ]
    orders = [
        build_order(run.matrix, [n for n in names if n in run.matrix.images] or None)
        for run, _ in variants
    ]
    for (run, publisher), order in zip(variants, orders, strict=True):
        refuse_uncommitted(run.matrix, order, publisher.allow_dirty)
    # Workflows' repositories and notebooks (the same in every variant): checked before
    # anything is built.
    sources = prepare_sources(variants[0][0].matrix, variants[0][0].cache) if variants else {}
    results = build_variants([run for run, _ in variants], names or None, jobs)
    if failed(results):
        raise ReleaseError(
            "the build failed: nothing was pushed; the published profiles and history are unchanged"
        )
    for (run, _), order in zip(variants, orders, strict=True):
        own = [r for r in results if r.variant == run.matrix.variant.name]
        workflows = WorkflowContext(run.client, run.matrix, run.cache, sources)
        _test_for_release(run, workflows, own, order, retest, pytest_args or [])
    return publish_variants([publisher for _, publisher in variants], orders)


def _test_for_release(
    run: BuildRun,
    workflows: WorkflowContext,
    results: list[BuildResult],
    order: list[str],
    retest: bool,
    args: list[str],
) -> None:
    variant = run.matrix.variant.name
    for result in results:
        suite = suite_sha256(run.matrix, result.name)
        image_id = result.image_id or ""
        if (
            not retest
            and gate_refusal(run.cache.test_results, result.name, image_id, suite) is None
        ):
            log.info(
                "[%s %s] tests already passed at image %s", result.name, variant, image_id[7:19]
            )
        else:
            record = run_container_tests(run.matrix, run.cache, result.name, image_id, args)
            if not record.passed:
                raise ReleaseError(
                    f"{result.name} ({variant}): container tests failed: nothing was pushed"
                    + _held(run, result.name, order)
                )
        # The environment's workflows of this variant, run headless on the image: a failure
        # holds it back too.
        failure = workflow_failure(workflows, result.name, image_id, retest)
        if failure:
            raise ReleaseError(f"{failure}: nothing was pushed{_held(run, result.name, order)}")


def _held(run: BuildRun, name: str, order: list[str]) -> str:
    held = [name, *(d for d in descendants(run.matrix, name) if d in order)]
    return (
        f" (held back: {', '.join(held)}, in every variant); the published profiles and "
        "history are unchanged"
    )


def refuse_uncommitted(matrix: Matrix, names: list[str], allow_dirty: bool) -> None:
    """A release promises that its tag's commit rebuilds it: not from uncommitted files."""
    changed = sorted({path for name in names for path in uncommitted_inputs(matrix, name)})
    if changed and not allow_dirty:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise ReleaseError(
            f"uncommitted changes reach the released images ({shown}): commit "
            "them, or pass --dirty to publish under a -dirty tag"
        )


def publish_release(publisher: Publisher, names: list[str]) -> Release:
    """Push tested images, then record the release: the `invoke push` step of a release."""
    return publish_variants([publisher], [names])[0]


def publish_variants(publishers: list[Publisher], orders: list[list[str]]) -> list[Release]:
    """Each variant's images: every variant staged (tested, tagged, audited against its own
    Debian suite, the key loaded) before any is pushed, then pushed, signed and recorded."""
    staged = [stage(p, names) for p, names in zip(publishers, orders, strict=True)]
    releases = []
    for item in staged:
        release = push_staged(item)
        record_release(item.publisher, item.registry, release)
        releases.append(release)
    return releases


def record_release(publisher: Publisher, registry: RegistryClient, release: Release) -> None:
    """Inventories first, then the release record, then history and profiles (what admins
    read)."""
    store = publisher.store
    for image in release.images:
        remote = registry.manifest(image.name, image.tag)
        inventory = build_inventory(
            publisher.client,
            publisher.cache.probes,
            release,
            image,
            remote.layers_size if remote else 0,
        )
        store.write_inventory(inventory)
    # What the profiles will offer: this release and every variant's earlier ones, each
    # verified in the registry before the history and profiles change.
    history = [release, *(r for r in store.history() if r.tag != release.tag)]
    current = current_releases(history, publisher.matrix.default_variant.name)
    publisher.verified(current.values(), "the profiles were not written")
    store.write_release(release)
    store.add_to_history(release)
    paths = write_profiles(publisher.matrix, current, store.profiles, publisher.trust())
    record_workflows(publisher.matrix, publisher.cache, store, release)
    log.info(
        "release %s: %d images; profiles: %s",
        release.tag,
        len(release.images),
        ", ".join(str(p) for p in paths),
    )


def profiles_for(publisher: Publisher, tag: str | None, variants: list[str]) -> list[Path]:
    """Write the profiles of the newest recorded release of each of `variants`, or of the
    release TAG names: that tag in its variant, the same build run's tag in the others."""
    store = publisher.store
    matrix = publisher.matrix
    if tag is None:
        history = store.history()
        current = current_releases(history, matrix.default_variant.name)
        releases = {v: r for v, r in current.items() if v in variants}
        if not releases:
            raise ReleaseError(
                f"no release of {', '.join(variants)} recorded for {publisher.target}: run "
                f"`invoke release --registry {publisher.target}` or pass --release TAG"
            )
    else:
        releases = resolve_variants(publisher, tag, variants)
    publisher.verified(releases.values(), "no profiles were written")
    return write_profiles(matrix, releases, store.profiles, publisher.trust())


def resolve_variants(publisher: Publisher, tag: str, variants: list[str]) -> dict[str, Release]:
    """A release tag as the registry has it, in each variant that has it."""
    parsed = ReleaseTag.parse(tag)
    if parsed is None:
        raise ReleaseError(f"--release {tag!r} is not a release tag like 2026-11-24-1a2b3c4")
    found = {}
    for name in variants:
        view = publisher.matrix.for_variant(name)
        variant_tag = str(parsed.for_variant(view.variant))
        try:
            release = resolve_release(view, publisher.registry(), variant_tag, publisher.policy)
        except HubImagesError:
            log.info("no image of variant %s has the tag %s", name, variant_tag)
            continue
        found[name] = replace(release, variant=name)
    if not found:
        raise ReleaseError(
            f"release {tag!r}: no image of build-matrix.yaml has that tag (in any of "
            f"{', '.join(variants)}) in {publisher.target}; `invoke history --registry "
            f"{publisher.target}` lists releases"
        )
    return found


def releases_of(publisher: Publisher, remote: bool) -> list[Release]:
    """This machine's records of the target, or (remote, or none here) the registry's tags."""
    releases = [] if remote else publisher.store.history()
    return releases or registry_history(publisher.matrix, publisher.registry(), publisher.policy)


def inventory_of(publisher: Publisher, name: str, tag: str) -> Inventory:
    """The recorded inventory, or, on a machine without it, the image pulled and asked."""
    publisher.matrix.image(name)
    try:
        return publisher.store.load_inventory(name, tag)
    except HubImagesError:
        if not publisher.registry().manifest(name, tag):
            raise
    return pulled_inventory(publisher.client, publisher.cache, publisher.registry(), name, tag)
