"""`invoke release`: build, test, push, then write manifests, history and profiles, in that order.

Each step only starts when the one before succeeded for every image, so a failing test or a
registry fault leaves the published history and profiles as they were. A rerun finds the
images built and tested (same image ids) and the pushes done, and completes the release.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import docker.errors
from docker import DockerClient

from hubimages import gitinfo
from hubimages.builder import build_images
from hubimages.errors import HubImagesError
from hubimages.manifests import (
    add_to_history,
    build_manifest,
    load_history,
    publish_dir,
    write_manifest,
    write_release,
)
from hubimages.matrix import Matrix
from hubimages.plan import build_order, descendants
from hubimages.profiles import write_profiles
from hubimages.publish import RetryPolicy, push_images
from hubimages.records import PublishedImage, Release
from hubimages.registry import RegistryClient, RegistryTarget, credentials
from hubimages.tags import immutable_tag
from hubimages.testing import passed_image_id, run_container_tests

log = logging.getLogger(__name__)


class ReleaseError(HubImagesError):
    pass


def release_tag(matrix: Matrix) -> str:
    revision = gitinfo.revision(matrix.root)
    return immutable_tag(time.strftime("%Y-%m-%d", time.gmtime()), revision.short)


def release_images(matrix: Matrix, names: list[str], target: RegistryTarget,
                   retry: RetryPolicy | None = None, retest: bool = False, jobs: int = 2,
                   pytest_args: list[str] | None = None,
                   client: DockerClient | None = None) -> Release:
    from hubimages.engine import connect

    order = build_order(matrix, names or None)
    client = client or connect()
    results = build_images(matrix, order, jobs=jobs, client=client)
    if results is None:
        raise ReleaseError("the build failed: nothing was pushed; the published profiles "
                           "and history are unchanged")
    for result in results:
        if not retest and passed_image_id(matrix, result.name) == result.image_id:
            log.info("[%s] tests already passed at image %s", result.name,
                     (result.image_id or "")[7:19])
            continue
        run = run_container_tests(matrix, result.name, result.image_id or "", pytest_args or [])
        if not run.passed:
            held = [result.name, *(d for d in descendants(matrix, result.name) if d in order)]
            raise ReleaseError(
                f"{result.name}: container tests failed: nothing was pushed (held back: "
                f"{', '.join(held)}); the published profiles and history are unchanged")
    return publish_release(matrix, order, target, retry, client)


def publish_release(matrix: Matrix, names: list[str], target: RegistryTarget,
                    retry: RetryPolicy | None = None,
                    client: DockerClient | None = None) -> Release:
    """Push tested images, then record the release: the `invoke push` step of a release."""
    from hubimages.engine import connect

    client = client or connect()
    revision = gitinfo.revision(matrix.root)
    if gitinfo.is_dirty(matrix.root):
        log.warning("the work tree has uncommitted changes: the release tag names %s, which "
                    "is not all that was built", revision.short)
    folder = publish_dir(matrix, target)
    tag = release_tag(matrix)
    images = push_images(client, matrix, names, target, tag, folder / "pushes.jsonl", retry)
    release = Release(tag=tag, registry=str(target),
                      created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      revision=revision.full, images=tuple(images))
    record_release(client, matrix, folder, release)
    return release


def record_release(client: DockerClient, matrix: Matrix, folder: Path, release: Release) -> None:
    """Manifests first, then the release record, then history and profiles (what admins read)."""
    target = RegistryTarget.parse(release.registry, matrix.settings.namespace)
    registry = RegistryClient(target, credentials(target.host))
    for image in release.images:
        remote = registry.manifest(image.name, image.tag)
        manifest = build_manifest(client, release, image, remote.layers_size if remote else 0)
        write_manifest(folder, manifest)
    write_release(folder, release)
    history = add_to_history(folder, release)
    paths = write_profiles(matrix, current_images(history), folder / "profiles")
    log.info("release %s: %d images; profiles: %s", release.tag, len(release.images),
             ", ".join(str(p) for p in paths))


def current_images(history: list[Release]) -> Release:
    """The newest release, with each image it lacks taken from the newest release that has it."""
    newest = history[0]
    images: dict[str, PublishedImage] = {}
    for release in history:
        for image in release.images:
            images.setdefault(image.name, image)
    return Release(tag=newest.tag, registry=newest.registry, created=newest.created,
                   revision=newest.revision, images=tuple(images.values()))


def remote_image(registry: RegistryClient, name: str, tag: str,
                 retry: RetryPolicy) -> tuple[PublishedImage, dict[str, str]] | None:
    """An image at a tag as the registry has it, with its labels; None when not there."""
    from hubimages.builder import VERSION_LABELS
    from hubimages.registry import with_retries

    target = registry.target
    remote = with_retries(lambda: registry.manifest(name, tag),
                          f"asking {target.repository(name)}:{tag}", retry.attempts,
                          retry.first_delay)
    if remote is None:
        return None
    labels: dict[str, str] = {}
    if remote.config_digest:
        config = registry.image_config(name, remote.config_digest)
        labels = config.get("config", {}).get("Labels") or {}
    image = PublishedImage(
        name=name, repository=target.repository(name), tag=tag, digest=remote.digest,
        image_id=remote.config_digest or "",
        jupyterhub=labels.get(VERSION_LABELS["jupyterhub"], ""),
        jupyterlab=labels.get(VERSION_LABELS["jupyterlab"], ""))
    return image, labels


def resolve_release(matrix: Matrix, target: RegistryTarget, tag: str,
                    retry: RetryPolicy | None = None) -> Release:
    """An earlier release, as the registry has it: each matrix image's digest at that tag."""
    retry = retry or RetryPolicy()
    registry = RegistryClient(target, credentials(target.host))
    images = []
    labels: dict[str, str] = {}
    for name in matrix.images:
        found = remote_image(registry, name, tag, retry)
        if found is None:
            log.info("%s:%s is not in the registry: no profile for %s",
                     target.repository(name), tag, name)
            continue
        images.append(found[0])
        labels = found[1]
    if not images:
        raise ReleaseError(f"release {tag!r}: no image of build-matrix.yaml has that tag in "
                           f"{target}; `invoke history --registry {target}` lists releases")
    return Release(tag=tag, registry=str(target), created="",
                   revision=labels.get("org.opencontainers.image.revision", ""),
                   images=tuple(images))


def registry_history(matrix: Matrix, target: RegistryTarget,
                     retry: RetryPolicy | None = None) -> list[Release]:
    """Releases as the registry knows them: the immutable tags of the matrix's images.

    For machines without the local records (a CI runner, an admin's laptop)."""
    from hubimages.registry import with_retries
    from hubimages.tags import is_immutable

    retry = retry or RetryPolicy()
    registry = RegistryClient(target, credentials(target.host))
    releases: dict[str, list[PublishedImage]] = {}
    for name in matrix.images:
        tags = with_retries(lambda n=name: registry.tags(n), f"listing {target.repository(name)}",
                            retry.attempts, retry.first_delay)
        for tag in filter(is_immutable, tags):
            found = remote_image(registry, name, tag, retry)
            if found is not None:
                releases.setdefault(tag, []).append(found[0])
    # Tags order releases by day; within a day, by the time of the commit they name.
    def newest_first(tag: str) -> tuple[str, int]:
        return tag[:10], gitinfo.commit_time(matrix.root, tag[11:])

    return [Release(tag=tag, registry=str(target), created="", revision=tag[11:],
                    images=tuple(releases[tag]))
            for tag in sorted(releases, key=newest_first, reverse=True)]


def profiles_for(matrix: Matrix, target: RegistryTarget, tag: str | None) -> list[Path]:
    """Write the profiles of a release (the newest recorded one when no tag is given)."""
    folder = publish_dir(matrix, target)
    if tag is None:
        history = load_history(folder)
        if not history:
            raise ReleaseError(f"no release recorded for {target}: run `invoke release "
                               f"--registry {target}` or pass --release TAG")
        release = current_images(history)
    else:
        release = resolve_release(matrix, target, tag)
    return write_profiles(matrix, release, folder / "profiles")


def manifest_for_diff(matrix: Matrix, target: RegistryTarget, name: str,
                      tag: str) -> dict[str, object]:
    """The recorded manifest, or, on a machine without it, the image pulled and asked."""
    from hubimages.engine import connect
    from hubimages.manifests import image_contents, load_manifest

    try:
        return load_manifest(publish_dir(matrix, target), name, tag)
    except HubImagesError:
        if not RegistryClient(target, credentials(target.host)).manifest(name, tag):
            raise
    client = connect()
    repository = target.repository(name)
    log.info("no local manifest of %s %s: pulling %s:%s", name, tag, repository, tag)
    try:
        image = client.images.pull(repository, tag=tag, auth_config=credentials(target.host))
    except docker.errors.APIError as exc:
        raise ReleaseError(f"pulling {repository}:{tag} failed: {exc.explanation}") from None
    return image_contents(client, image.id)
