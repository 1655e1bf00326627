"""Push tested images to a registry: immutable tags first and never overwritten, then moving tags.

Order matters for a release that dies half-way: every image's immutable tag is pushed before any
moving tag moves, so a registry stopped mid-push leaves only new, unreferenced immutable tags;
`latest` and friends, the history and the profiles still describe the previous release.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import docker.errors
from docker import DockerClient

from hubimages.builder import VERSION_LABELS, image_ref
from hubimages.engine import image_or_none
from hubimages.errors import HubImagesError
from hubimages.matrix import Matrix
from hubimages.records import PublishedImage
from hubimages.registry import (
    RegistryClient,
    RegistryError,
    RegistryTarget,
    RetryableError,
    credentials,
    with_retries,
)
from hubimages.tags import moving_tags
from hubimages.testing import passed_image_id

log = logging.getLogger(__name__)

# Words in an engine push error that mean "no" rather than "not now".
REFUSALS = ("unauthorized", "denied", "authentication required", "forbidden", "manifest invalid",
            "name unknown", "blob unknown")


class NotTestedError(HubImagesError):
    pass


class ImmutableTagError(HubImagesError):
    pass


@dataclass(frozen=True)
class PushPlan:
    name: str
    image_id: str
    local_ref: str
    repository: str
    moving: tuple[str, ...]
    jupyterhub: str
    jupyterlab: str
    remote_digest: str | None  # set when the registry already has this image at the tag


@dataclass
class RetryPolicy:
    attempts: int = 4
    first_delay: float = 1.0


def tested_image(client: DockerClient, matrix: Matrix, name: str) -> tuple[str, list[str]]:
    """(image id, local tags) of an image that passed its tests at exactly this id."""
    ref = image_ref(matrix, name)
    image = image_or_none(client, ref)
    if image is None:
        raise NotTestedError(f"{ref} does not exist: run `invoke release {name}` (or `invoke "
                             f"build {name}` and `invoke test {name}`) first")
    if passed_image_id(matrix, name) != image.id:
        raise NotTestedError(
            f"{ref} ({image.id[7:19]}) has not passed its tests at this image id: run "
            f"`invoke test {name}`, then push again")
    prefix = f"{matrix.settings.namespace}/{name}:"
    return image.id, [t.removeprefix(prefix) for t in image.tags if t.startswith(prefix)]


def plan_pushes(client: DockerClient, matrix: Matrix, names: list[str], registry: RegistryClient,
                tag: str, retry: RetryPolicy) -> list[PushPlan]:
    """Check everything that can be checked before the first byte is pushed."""
    with_retries(registry.ping, f"registry {registry.target.host}", retry.attempts,
                 retry.first_delay)
    plans = []
    for name in names:
        image_id, local_tags = tested_image(client, matrix, name)
        repository = registry.target.repository(name)
        remote = with_retries(lambda n=name: registry.manifest(n, tag),
                              f"asking {repository}:{tag}", retry.attempts, retry.first_delay)
        if remote is not None and remote.config_digest != image_id:
            raise ImmutableTagError(
                f"{repository}:{tag} already exists with different content (image "
                f"{(remote.config_digest or remote.media_type)[:19]}, ours {image_id[:19]}): "
                "immutable tags are never overwritten; release from a new commit")
        labels = client.images.get(image_id).labels or {}
        plans.append(PushPlan(
            name=name, image_id=image_id, local_ref=image_ref(matrix, name),
            repository=repository, moving=tuple(moving_tags(local_tags)),
            jupyterhub=labels.get(VERSION_LABELS["jupyterhub"], ""),
            jupyterlab=labels.get(VERSION_LABELS["jupyterlab"], ""),
            remote_digest=remote.digest if remote is not None else None))
    return plans


def push_tag(client: DockerClient, image_id: str, repository: str, tag: str,
             auth: dict[str, str] | None) -> str:
    """One docker push through the engine; the manifest digest it reports."""
    client.api.tag(image_id, repository, tag)
    digest = None
    try:
        for event in client.api.push(repository, tag=tag, stream=True, decode=True,
                                     auth_config=auth):
            if "error" in event:
                _raise_push_error(repository, tag, event["error"])
            digest = event.get("aux", {}).get("Digest", digest)
    except docker.errors.APIError as exc:
        _raise_push_error(repository, tag, str(exc.explanation or exc))
    except (docker.errors.DockerException, OSError) as exc:
        raise RetryableError(f"engine connection: {exc}") from None
    if not digest:
        raise RetryableError("the engine reported no digest")
    return digest


def _raise_push_error(repository: str, tag: str, message: str) -> None:
    text = " ".join(message.split())
    if any(word in text.lower() for word in REFUSALS):
        raise RegistryError(f"registry refused {repository}:{tag}: {text}; check "
                            "the credentials (`docker login` or HUBIMAGES_REGISTRY_USER) "
                            "and that the namespace may be pushed to")
    raise RetryableError(text)  # with_retries names the push


def record_push(log_file: Path, repository: str, tag: str, digest: str, image_id: str) -> None:
    """Append-only log of every digest pushed, also of releases that did not finish."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    entry = {"repository": repository, "tag": tag, "digest": digest, "image_id": image_id,
             "pushed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with log_file.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def push_images(client: DockerClient, matrix: Matrix, names: list[str], target: RegistryTarget,
                tag: str, push_log: Path, retry: RetryPolicy | None = None
                ) -> list[PublishedImage]:
    """Push each image under the immutable tag, then move its moving tags. Parents first."""
    retry = retry or RetryPolicy()
    auth = credentials(target.host)
    registry = RegistryClient(target, auth)
    plans = plan_pushes(client, matrix, names, registry, tag, retry)
    digests: dict[str, str] = {}
    for plan in plans:
        if plan.remote_digest is not None:
            log.info("[%s] %s:%s already holds this image (%s)", plan.name, plan.repository,
                     tag, plan.remote_digest[:19])
            digests[plan.name] = plan.remote_digest
            continue
        digests[plan.name] = _push_logged(client, plan, tag, auth, push_log, retry)
    for plan in plans:
        for moving in plan.moving:
            digest = _push_logged(client, plan, moving, auth, push_log, retry)
            if digest != digests[plan.name]:
                raise RegistryError(
                    f"{plan.repository}:{moving} got digest {digest[:19]} but {tag} has "
                    f"{digests[plan.name][:19]}: the registry rewrote the manifest")
    return [PublishedImage(name=p.name, repository=p.repository, tag=tag,
                           digest=digests[p.name], image_id=p.image_id,
                           jupyterhub=p.jupyterhub, jupyterlab=p.jupyterlab,
                           moving_tags=p.moving) for p in plans]


def _push_logged(client: DockerClient, plan: PushPlan, tag: str, auth: dict[str, str] | None,
                 push_log: Path, retry: RetryPolicy) -> str:
    started = time.monotonic()
    digest = with_retries(lambda: push_tag(client, plan.image_id, plan.repository, tag, auth),
                          f"pushing {plan.repository}:{tag}", retry.attempts, retry.first_delay)
    record_push(push_log, plan.repository, tag, digest, plan.image_id)
    log.info("[%s] pushed %s:%s %s in %.1fs", plan.name, plan.repository, tag, digest[:19],
             time.monotonic() - started)
    return digest
