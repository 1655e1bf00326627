"""Walk the lineage: ancestors, build order, descendants, depth, and the folders an image uses.

Two words with one meaning each: an image's *recipe* is the folders applied, in order, on top of
its parent (its stacks, then itself); the folders it *includes* are every folder whose packages
and tests it carries (ancestors, stacks, itself).
"""

from __future__ import annotations

from collections.abc import Iterable

from hubimages.model.spec import ImageSpec, Matrix


def ancestors(matrix: Matrix, name: str) -> list[str]:
    """Parents of an image, nearest first."""
    chain: list[str] = []
    spec = matrix.image(name)
    while spec.parent is not None:
        chain.append(spec.parent)
        spec = matrix.image(spec.parent)
    return chain


def depth(matrix: Matrix, name: str) -> int:
    """How many ancestors an image has: 0 for a root image."""
    return len(ancestors(matrix, name))


def build_order(matrix: Matrix, targets: Iterable[str] | None = None) -> list[str]:
    """The targets and every ancestor they need, parents first, in matrix order otherwise."""
    wanted = list(targets) if targets else list(matrix.images)
    needed: set[str] = set()
    for name in wanted:
        matrix.image(name)
        needed.add(name)
        needed.update(ancestors(matrix, name))
    ordered: list[str] = []

    def place(name: str) -> None:
        if name in ordered:
            return
        parent = matrix.images[name].parent
        if parent is not None:
            place(parent)
        ordered.append(name)

    for name in matrix.images:
        if name in needed:
            place(name)
    return ordered


def descendants(matrix: Matrix, name: str) -> list[str]:
    """Images whose parent chain goes through `name` or that include it as a stack."""
    found = [
        other
        for other in matrix.images
        if other != name
        and (name in ancestors(matrix, other) or _stacked_in_lineage(matrix, other, name))
    ]
    return [n for n in build_order(matrix, found) if n in found] if found else []


def _stacked_in_lineage(matrix: Matrix, name: str, stack: str) -> bool:
    lineage = [name, *ancestors(matrix, name)]
    return any(stack in matrix.images[n].stacks for n in lineage)


def recipe(matrix: Matrix, name: str) -> list[ImageSpec]:
    """Folders applied, in order, on top of the parent: each stack, then the image itself."""
    spec = matrix.image(name)
    return [matrix.images[s] for s in spec.stacks] + [spec]


def included(matrix: Matrix, name: str) -> list[str]:
    """Every folder whose packages and tests an image carries: ancestors, stacks, itself.

    Parents come first, so tests and requirements are read in lineage order.
    """
    lineage = [*reversed(ancestors(matrix, name)), name]
    out: list[str] = []
    for member in lineage:
        for stack in matrix.images[member].stacks:
            for inner in included(matrix, stack):
                if inner not in out:
                    out.append(inner)
        if member not in out:
            out.append(member)
    return out
