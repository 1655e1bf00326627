"""Package changes of an image between two releases, from their inventories."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hubimages.publish.inventory import Inventory


class PackageKind(Enum):
    PYTHON = "python"
    DEBIAN = "debian"


@dataclass(frozen=True)
class PackageChange:
    kind: PackageKind
    name: str
    old: str  # "" when added
    new: str  # "" when removed


def diff_inventories(old: Inventory, new: Inventory) -> list[PackageChange]:
    changes = []
    for kind in PackageKind:
        before, after = _packages(old, kind), _packages(new, kind)
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                changes.append(PackageChange(kind, name, before.get(name, ""), after.get(name, "")))
    return changes


def _packages(inventory: Inventory, kind: PackageKind) -> dict[str, str]:
    return inventory.python_packages if kind is PackageKind.PYTHON else inventory.debian_packages
