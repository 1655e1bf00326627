"""Push tested images: immutable tags first and never overwritten, then the moving tags.

Order matters for a release that dies half-way: every image's immutable tag is pushed before any
moving tag moves, so a registry stopped mid-push leaves only new, unreferenced immutable tags;
`latest` and friends, the history and the profiles still describe the previous release.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

import docker.errors
from docker import DockerClient

from hubimages.builder import labels as label
from hubimages.builder.tagging.release_tag import immutable_tags
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.publish.gate import TestedImage, moving_tags_of
from hubimages.publish.records import PublishedImage
from hubimages.publish.registry import Credentials, RegistryClient, RemoteManifest
from hubimages.publish.retry import RegistryError, RetryableError, RetryPolicy, with_retries
from hubimages.publish.store import ReleaseStore

log = logging.getLogger(__name__)

# Words in an engine push error that mean "no" rather than "not now".
REFUSALS = (
    "unauthorized",
    "denied",
    "authentication required",
    "forbidden",
    "manifest invalid",
    "name unknown",
    "blob unknown",
)


class ImmutableTagError(HubImagesError):
    pass


@dataclass(frozen=True)
class PushPlan:
    name: str
    image_id: str
    repository: str
    moving: tuple[str, ...]
    jupyterhub: str
    jupyterlab: str
    remote_digest: str | None  # set when the registry already has this image at the tag
    aliases: tuple[str, ...] = ()  # other immutable tags (the default's python-3.13-<tag>)


def plan_pushes(
    matrix: Matrix,
    images: list[TestedImage],
    registry: RegistryClient,
    tag: str,
    policy: RetryPolicy,
) -> list[PushPlan]:
    """Check everything that can be checked before the first byte is pushed."""
    with_retries(registry.ping, f"registry {registry.target.host}", policy)
    plans = []
    for image in images:
        repository = registry.target.repository(image.name)
        release, *aliases = immutable_tags(matrix.variant, tag)
        remote = _immutable(registry, image, release, policy)
        for alias in aliases:
            _immutable(registry, image, alias, policy)
        plans.append(
            PushPlan(
                name=image.name,
                image_id=image.image_id,
                repository=repository,
                moving=tuple(moving_tags_of(image, matrix)),
                jupyterhub=image.labels.get(label.VERSION_LABELS["jupyterhub"], ""),
                jupyterlab=image.labels.get(label.VERSION_LABELS["jupyterlab"], ""),
                remote_digest=remote.digest if remote is not None else None,
                aliases=tuple(aliases),
            )
        )
    return plans


def _immutable(
    registry: RegistryClient, image: TestedImage, tag: str, policy: RetryPolicy
) -> RemoteManifest | None:
    """What the registry holds at an immutable tag: nothing, or this very image."""
    repository = registry.target.repository(image.name)
    remote = with_retries(
        functools.partial(registry.manifest, image.name, tag),
        f"asking {repository}:{tag}",
        policy,
    )
    if remote is not None and remote.config_digest != image.image_id:
        raise ImmutableTagError(
            f"{repository}:{tag} already exists with different content (image "
            f"{(remote.config_digest or remote.media_type)[:19]}, ours "
            f"{image.image_id[:19]}): immutable tags are never overwritten; release from a "
            "new commit"
        )
    return remote


def push_tag(
    client: DockerClient, image_id: str, repository: str, tag: str, auth: Credentials | None
) -> str:
    """One docker push through the engine; the manifest digest it reports. The registry's
    name for the image is a local tag only while it is pushed: runs to other registries (or
    ports) would otherwise pile up tags in the engine."""
    client.api.tag(image_id, repository, tag)
    digest = None
    try:
        for event in client.api.push(
            repository, tag=tag, stream=True, decode=True, auth_config=auth
        ):
            if "error" in event:
                _raise_push_error(repository, tag, event["error"])
            digest = event.get("aux", {}).get("Digest", digest)
    except docker.errors.APIError as exc:
        _raise_push_error(repository, tag, str(exc.explanation or exc))
    except (docker.errors.DockerException, OSError) as exc:
        raise RetryableError(
            f"engine connection: {exc} (is dockerd running? invoke engine)"
        ) from None
    finally:
        _untag(client, f"{repository}:{tag}")
    if not digest:
        raise RetryableError("the engine reported no digest: the push did not complete")
    return str(digest)


def _untag(client: DockerClient, reference: str) -> None:
    try:
        client.api.remove_image(reference, noprune=True)
    except (docker.errors.DockerException, OSError):
        log.warning("could not remove the local tag %s", reference)


def _raise_push_error(repository: str, tag: str, message: str) -> None:
    text = " ".join(message.split())
    if any(word in text.lower() for word in REFUSALS):
        raise RegistryError(
            f"registry refused {repository}:{tag}: {text}; check "
            "the credentials (`docker login` or HUBIMAGES_REGISTRY_USER) "
            "and that the namespace may be pushed to"
        )
    raise RetryableError(text)  # with_retries names the push


@dataclass(frozen=True)
class Pusher:
    client: DockerClient
    registry: RegistryClient
    store: ReleaseStore
    policy: RetryPolicy

    def push_all(self, plans: list[PushPlan], tag: str) -> list[PublishedImage]:
        """Each image under the immutable tag, then its moving tags. Parents first."""
        digests: dict[str, str] = {}
        for plan in plans:
            if plan.remote_digest is not None:
                log.info(
                    "[%s] %s:%s already holds this image (%s)",
                    plan.name,
                    plan.repository,
                    tag,
                    plan.remote_digest[:19],
                )
                digests[plan.name] = plan.remote_digest
                continue
            digests[plan.name] = self._push(plan, tag)
        for plan in plans:
            for moving in [*plan.aliases, *plan.moving]:
                digest = self._push(plan, moving)
                if digest != digests[plan.name]:
                    raise RegistryError(
                        f"{plan.repository}:{moving} got digest {digest[:19]} but {tag} has "
                        f"{digests[plan.name][:19]}: the registry rewrote the manifest; push "
                        "to one that stores manifests as pushed (an OCI distribution registry)"
                    )
        return [
            PublishedImage(
                name=p.name,
                repository=p.repository,
                tag=tag,
                digest=digests[p.name],
                image_id=p.image_id,
                jupyterhub=p.jupyterhub,
                jupyterlab=p.jupyterlab,
                moving_tags=(*p.aliases, *p.moving),
            )
            for p in plans
        ]

    def _push(self, plan: PushPlan, tag: str) -> str:
        started = time.monotonic()
        digest = with_retries(
            lambda: push_tag(self.client, plan.image_id, plan.repository, tag, self.registry.auth),
            f"pushing {plan.repository}:{tag}",
            self.policy,
        )
        self.store.record_push(plan.repository, tag, digest, plan.image_id)
        log.info(
            "[%s] pushed %s:%s %s in %.1fs",
            plan.name,
            plan.repository,
            tag,
            digest[:19],
            time.monotonic() - started,
        )
        return digest
