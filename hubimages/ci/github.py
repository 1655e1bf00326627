"""GitHub Actions outputs of `invoke affected`: the images, and one list per CI stage.

A CI *stage* is a lineage depth: stage N builds the images with N ancestors, so every parent
is built by an earlier stage of the same workflow run.
"""

from __future__ import annotations

import json

from hubimages.model.lineage import depth
from hubimages.model.spec import Matrix


def stages_for_ci(matrix: Matrix, names: list[str]) -> list[list[dict[str, str]]]:
    """Images grouped by lineage depth: a stage's parents are all in earlier stages."""
    deepest = max((depth(matrix, name) for name in matrix.images), default=0)
    groups: list[list[dict[str, str]]] = [[] for _ in range(deepest + 1)]
    for name in names:
        groups[depth(matrix, name)].append(
            {"image": name, "parent": matrix.images[name].parent or ""}
        )
    return groups


def github_outputs(matrix: Matrix, names: list[str]) -> dict[str, str]:
    """`key=value` outputs for a GitHub Actions job: images, and stage-N lists for matrices."""
    outputs = {"images": json.dumps(names)}
    for index, group in enumerate(stages_for_ci(matrix, names)):
        outputs[f"stage-{index}"] = json.dumps(group)
    return outputs
