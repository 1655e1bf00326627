"""Whether an image must be built, and why: the answer printed next to each image."""

from __future__ import annotations

from hubimages.builder.engine import image_or_none
from hubimages.builder.labels import INPUTS_HASH
from hubimages.builder.run import BuildResult, BuildRun, BuildStatus
from hubimages.model.spec import ImageSpec


def why_build(
    run: BuildRun, spec: ImageSpec, inputs: str, results: dict[str, BuildResult]
) -> str | None:
    """The reason to build, or None when the image with these inputs already exists.

    --force applies to the images named with it, never to their ancestors: an ancestor is
    rebuilt only when its own inputs changed, so its other children do not go stale.
    """
    if spec.name in run.forced:
        return "--force"
    current = image_or_none(run.client, run.matrix.local_ref(spec.name))
    if current is None:
        return "no image yet"
    if current.labels.get(INPUTS_HASH) == inputs:
        return None
    if spec.parent is not None and results[spec.parent].status is BuildStatus.BUILT:
        return f"parent {spec.parent} was rebuilt"
    return "inputs changed"
