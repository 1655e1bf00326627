"""Releases as a registry knows them: for machines without this machine's records."""

from __future__ import annotations

import functools
import logging

import docker.errors
from docker import DockerClient

from hubimages.builder import labels as label
from hubimages.builder.probe import probe
from hubimages.builder.tagging.release_tag import ReleaseTag, is_immutable, variant_of
from hubimages.core.cache import CacheLayout
from hubimages.core.git import commit_time
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.publish.inventory import Inventory
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.registry import RegistryClient, credentials
from hubimages.publish.retry import RetryPolicy, with_retries

log = logging.getLogger(__name__)


def remote_image(
    registry: RegistryClient, name: str, tag: str, policy: RetryPolicy
) -> tuple[PublishedImage, dict[str, str]] | None:
    """An image at a tag as the registry has it, with its labels; None when not there."""
    target = registry.target
    remote = with_retries(
        lambda: registry.manifest(name, tag), f"asking {target.repository(name)}:{tag}", policy
    )
    if remote is None:
        return None
    labels = registry.labels(name, remote.config_digest) if remote.config_digest else {}
    image = PublishedImage(
        name=name,
        repository=target.repository(name),
        tag=tag,
        digest=remote.digest,
        image_id=remote.config_digest or "",
        jupyterhub=labels.get(label.VERSION_LABELS["jupyterhub"], ""),
        jupyterlab=labels.get(label.VERSION_LABELS["jupyterlab"], ""),
    )
    return image, labels


def resolve_release(
    matrix: Matrix, registry: RegistryClient, tag: str, policy: RetryPolicy
) -> Release:
    """An earlier release, as the registry has it: each matrix image's digest at that tag."""
    images = []
    labels: dict[str, str] = {}
    for name in matrix.images:
        found = remote_image(registry, name, tag, policy)
        if found is None:
            log.info(
                "%s:%s is not in the registry: no profile for %s",
                registry.target.repository(name),
                tag,
                name,
            )
            continue
        images.append(found[0])
        labels = found[1]
    if not images:
        target = registry.target
        raise HubImagesError(
            f"release {tag!r}: no image of build-matrix.yaml has that tag in "
            f"{target}; `invoke history --registry {target}` lists releases"
        )
    return Release(
        tag=tag,
        registry=str(registry.target),
        created="",
        revision=labels.get(label.REVISION, ""),
        images=tuple(images),
    )


def registry_history(
    matrix: Matrix, registry: RegistryClient, policy: RetryPolicy
) -> list[Release]:
    """Releases as the registry knows them: the immutable tags of the matrix's images, each
    the release of the variant its prefix names."""
    target = registry.target
    releases: dict[str, list[PublishedImage]] = {}
    variants: dict[str, str] = {}
    for name in matrix.declared:
        tags = with_retries(
            functools.partial(registry.tags, name), f"listing {target.repository(name)}", policy
        )
        for tag in filter(is_immutable, tags):
            variant = variant_of(
                matrix.variants.values(), ReleaseTag.parse(tag) or ReleaseTag("", "")
            )
            found = remote_image(registry, name, tag, policy) if variant else None
            if variant is not None and found is not None:
                releases.setdefault(tag, []).append(found[0])
                variants[tag] = variant.name

    def newest_first(tag: str) -> tuple[str, int]:
        # Tags order releases by day; within a day, by the time of the commit they name.
        parsed = ReleaseTag.parse(tag)
        assert parsed is not None  # filtered by is_immutable
        return parsed.date, commit_time(matrix.root, parsed.sha)

    return [
        Release(
            tag=tag,
            registry=str(target),
            created="",
            revision=(ReleaseTag.parse(tag) or ReleaseTag("", "")).sha,
            images=tuple(releases[tag]),
            variant=variants[tag],
        )
        for tag in sorted(releases, key=newest_first, reverse=True)
    ]


def pulled_inventory(
    client: DockerClient, cache: CacheLayout, registry: RegistryClient, name: str, tag: str
) -> Inventory:
    """The packages of a released image, by pulling it: for machines without the records."""
    repository = registry.target.repository(name)
    log.info("no local inventory of %s %s: pulling %s:%s", name, tag, repository, tag)
    try:
        image = client.images.pull(
            repository, tag=tag, auth_config=credentials(registry.target.host)
        )
    except docker.errors.APIError as exc:
        raise HubImagesError(f"pulling {repository}:{tag} failed: {exc.explanation}") from None
    return Inventory.of_contents(name, tag, probe(client, str(image.id), cache.probes))
