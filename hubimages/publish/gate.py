"""What may be pushed, and under which tag: tested images, with the tag their build decided."""

from __future__ import annotations

from dataclasses import dataclass

from docker import DockerClient
from docker.models.images import Image

from hubimages.builder import labels as label
from hubimages.builder.engine import image_or_none, local_tags
from hubimages.builder.tagging.release_tag import ReleaseTag, moving_tags
from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.verify.results import gate_refusal
from hubimages.verify.selection import suite_sha256


class NotTestedError(HubImagesError):
    pass


@dataclass(frozen=True)
class TestedImage:
    __test__ = False  # not a pytest class

    name: str
    image: Image

    @property
    def image_id(self) -> str:
        return str(self.image.id)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.image.labels or {})


def built_image(client: DockerClient, matrix: Matrix, name: str) -> TestedImage:
    """The local image, tested or not (for a throwaway registry, e.g. `invoke e2e`'s)."""
    ref = matrix.local_ref(name)
    image = image_or_none(client, ref)
    if image is None:
        raise NotTestedError(
            f"{ref} does not exist: run `invoke release -i {name}` (or `invoke "
            f"build -i {name}` and `invoke test -i {name}`) first"
        )
    return TestedImage(name, image)


def tested_image(
    client: DockerClient, matrix: Matrix, cache: CacheLayout, name: str
) -> TestedImage:
    """The local image, which must have passed its tests at exactly this image id."""
    ref = matrix.local_ref(name)
    image = built_image(client, matrix, name).image
    refusal = gate_refusal(cache.test_results, name, str(image.id), suite_sha256(matrix, name))
    if refusal is not None:
        raise NotTestedError(
            f"{ref} ({str(image.id)[7:19]}) {refusal}: run `invoke test -i {name}`, then push again"
        )
    return TestedImage(name, image)


@dataclass(frozen=True)
class ReleaseChoice:
    tag: str  # the immutable tag all images of the release are pushed under
    revision: str  # the git revision that build ran at


def release_choice(images: list[TestedImage]) -> ReleaseChoice:
    """The release tag is the one the newest build among the images decided, read from its
    labels: never recomputed, so a push after midnight keeps the build's date."""
    dated = [
        (i.labels.get(label.CREATED, ""), i)
        for i in images
        if ReleaseTag.parse(i.labels.get(label.VERSION, "")) is not None
    ]
    if not dated:
        names = ", ".join(i.name for i in images)
        raise HubImagesError(
            f"{names}: no release tag in the image labels (built by an older "
            "build tool?): rebuild with `invoke build --force IMAGE`"
        )
    newest = max(dated, key=lambda pair: pair[0])[1]
    return ReleaseChoice(
        tag=newest.labels[label.VERSION], revision=newest.labels.get(label.REVISION, "")
    )


def moving_tags_of(image: TestedImage, matrix: Matrix) -> list[str]:
    return moving_tags(local_tags(image.image, matrix.repository(image.name)))
