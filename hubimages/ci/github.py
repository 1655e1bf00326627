"""GitHub Actions outputs of `invoke affected`: the images, and one list per CI stage.

A CI *stage* is a lineage depth: stage N builds the images with N ancestors, so every parent
is built by an earlier stage of the same workflow run. Each stage is a matrix over the variants
and the images: one job per (variant, image).
"""

from __future__ import annotations

import json

from hubimages.model.lineage import depth
from hubimages.model.spec import Matrix

Affected = list[tuple[Matrix, list[str]]]  # per variant: its matrix view, its affected images


def stages_for_ci(affected: Affected) -> list[list[dict[str, str]]]:
    """(variant, image) pairs grouped by lineage depth: a stage's parents are all in earlier
    stages."""
    deepest = max(
        (depth(matrix, name) for matrix, _ in affected for name in matrix.images), default=0
    )
    groups: list[list[dict[str, str]]] = [[] for _ in range(deepest + 1)]
    for matrix, names in affected:
        for name in names:
            groups[depth(matrix, name)].append(
                {
                    "variant": matrix.variant.name,
                    "image": name,
                    "parent": matrix.images[name].parent or "",
                }
            )
    return groups


def github_outputs(affected: Affected) -> dict[str, str]:
    """`key=value` outputs for a GitHub Actions job: images, and stage-N lists for matrices."""
    images = [{"variant": m.variant.name, "image": n} for m, names in affected for n in names]
    outputs = {"images": json.dumps(images)}
    if affected:  # the browser session's variant (its jobs load only its images)
        outputs["default-variant"] = affected[0][0].default_variant.name
    for index, group in enumerate(stages_for_ci(affected)):
        outputs[f"stage-{index}"] = json.dumps(group)
    return outputs
