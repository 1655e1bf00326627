"""What a release published: one record per pushed image."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PublishedImage:
    name: str  # the image's name in build-matrix.yaml
    repository: str  # registry host[:port]/namespace/name
    tag: str  # the release's immutable tag
    digest: str  # manifest digest, sha256:...
    image_id: str  # config digest, sha256:... (the local image id)
    jupyterhub: str = ""  # versions in the image, for admins to match their hub
    jupyterlab: str = ""
    moving_tags: tuple[str, ...] = ()  # the immutable alias (python-3.13-<tag>) included

    @property
    def pinned(self) -> str:
        """The reference a spawner should use: readable tag, verified digest."""
        return f"{self.repository}:{self.tag}@{self.digest}"


@dataclass(frozen=True)
class Release:
    """One variant's images pushed under one immutable tag (python-3.11-<date>-<sha> for a
    variant that is not the default)."""

    tag: str
    registry: str  # host[:port]/namespace as given to --registry
    created: str  # UTC, ISO 8601
    revision: str  # git revision the images were built from
    images: tuple[PublishedImage, ...] = field(default_factory=tuple)
    variant: str = ""  # the matrix variant; "" in records made before variants

    def image(self, name: str) -> PublishedImage | None:
        return next((i for i in self.images if i.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Release:
        images = tuple(
            PublishedImage(**{**i, "moving_tags": tuple(i.get("moving_tags", ()))})
            for i in data.get("images", ())
        )
        return cls(
            tag=data["tag"],
            registry=data["registry"],
            created=data["created"],
            revision=data["revision"],
            images=images,
            variant=data.get("variant", ""),
        )


def current_images(history: list[Release]) -> Release:
    """The newest release, with each image it lacks taken from the newest release that has it."""
    newest = history[0]
    images: dict[str, PublishedImage] = {}
    for release in history:
        for image in release.images:
            images.setdefault(image.name, image)
    return Release(
        tag=newest.tag,
        registry=newest.registry,
        created=newest.created,
        revision=newest.revision,
        images=tuple(images.values()),
        variant=newest.variant,
    )


def current_releases(history: list[Release], default: str) -> dict[str, Release]:
    """Per variant, its current images (current_images of its releases); a record without a
    variant counts as the default variant's."""
    by_variant: dict[str, list[Release]] = {}
    for release in history:
        by_variant.setdefault(release.variant or default, []).append(release)
    return {variant: current_images(releases) for variant, releases in by_variant.items()}
