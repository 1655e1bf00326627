"""What an image is built on: a matrix parent, an upstream image, or the Debian root.

Known cheaply for the input hash (`token`), made available only when the image is built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import docker.errors

from hubimages.builder.engine import image_or_none
from hubimages.builder.rootfs import ensure_root_image, rootfs_key
from hubimages.builder.run import BuildResult, BuildRun
from hubimages.errors import HubImagesError
from hubimages.model.spec import ImageSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parent:
    token: str  # what enters the input hash
    name: str  # what the base.name label records
    image_id: str | None  # known for a matrix parent; None until made available


def parent_of(run: BuildRun, spec: ImageSpec, results: dict[str, BuildResult]) -> Parent:
    if spec.parent is not None:
        image_id = results[spec.parent].image_id or ""
        return Parent(image_id, run.matrix.local_ref(spec.parent), image_id)
    if spec.source_from is not None:
        return Parent(f"from:{spec.source_from}", spec.source_from, None)
    suite = run.matrix.settings.debian.suite
    return Parent(f"rootfs:{rootfs_key(run.matrix, spec)}", f"debian:{suite} (bootstrapped)", None)


def parent_image_id(run: BuildRun, spec: ImageSpec, parent: Parent) -> str:
    """The parent's image id, importing the root or pulling the upstream image if needed."""
    if parent.image_id is not None:
        return parent.image_id
    if spec.source_from is not None:
        return _pull(run, spec.source_from)
    return ensure_root_image(run.client, run.matrix, spec, run.cache)


def _pull(run: BuildRun, ref: str) -> str:
    image = image_or_none(run.client, ref)
    if image is None:
        log.info("pulling %s", ref)
        try:
            image = run.client.images.pull(ref)
        except docker.errors.APIError as exc:
            raise HubImagesError(
                f"cannot pull {ref}: {exc.explanation}; this site needs a registry for "
                "source.from, or use source: bootstrap"
            ) from None
    return str(image.id)
