"""The package inventory of a released image: what it holds, where it comes from, its size.

Written with each release (releases/<tag>/<image>.json and .md, see publish.store), compared by
`invoke diff`. Not to be confused with an OCI manifest, which only lists layers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docker import DockerClient

from hubimages.builder import labels as label
from hubimages.builder.probe import ImageContents, probe
from hubimages.publish.records import PublishedImage, Release


@dataclass(frozen=True)
class ParentImage:
    name: str
    reference: str
    digest: str = ""
    image_id: str = ""


@dataclass(frozen=True)
class Inventory:
    image: str
    release: str
    python: str
    python_packages: dict[str, str]
    debian_packages: dict[str, str]
    repository: str = ""
    reference: str = ""
    tags: tuple[str, ...] = ()
    digest: str = ""
    image_id: str = ""
    size: int = 0
    compressed_size: int = 0
    created: str = ""
    revision: str = ""
    release_revision: str = ""
    parent: ParentImage = field(default_factory=lambda: ParentImage("", ""))
    jupyterhub: str = ""
    jupyterlab: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inventory:
        return cls(
            **{
                **data,
                "tags": tuple(data.get("tags", ())),
                "parent": ParentImage(**data.get("parent", {"name": "", "reference": ""})),
            }
        )

    @classmethod
    def of_contents(cls, name: str, tag: str, contents: ImageContents) -> Inventory:
        """What a pulled image holds, for a diff on a machine without the records."""
        return cls(
            image=name,
            release=tag,
            python=contents.python,
            python_packages=contents.python_packages,
            debian_packages=contents.debian_packages,
        )


def build_inventory(
    client: DockerClient,
    probes: Path,
    release: Release,
    image: PublishedImage,
    remote_size: int = 0,
) -> Inventory:
    local = client.images.get(image.image_id)
    labels: dict[str, str] = local.labels or {}
    contents = probe(client, image.image_id, probes)
    packages = contents.python_packages
    return Inventory(
        image=image.name,
        release=release.tag,
        python=contents.python,
        python_packages=packages,
        debian_packages=contents.debian_packages,
        repository=image.repository,
        reference=image.pinned,
        tags=(image.tag, *image.moving_tags),
        digest=image.digest,
        image_id=image.image_id,
        size=int(local.attrs["Size"]),
        compressed_size=remote_size,
        created=labels.get(label.CREATED, str(local.attrs.get("Created", ""))),
        revision=labels.get(label.REVISION, ""),
        release_revision=release.revision,
        parent=_parent(release, labels),
        jupyterhub=packages.get("jupyterhub", ""),
        jupyterlab=packages.get("jupyterlab", ""),
    )


def _parent(release: Release, labels: dict[str, str]) -> ParentImage:
    """The parent as published in the same release, else what the image was built on."""
    base_name = labels.get(label.BASE_NAME, "")
    base_id = labels.get(label.BASE_DIGEST, "")
    for other in release.images:
        if other.image_id == base_id:
            return ParentImage(other.name, other.pinned, other.digest, base_id)
    return ParentImage(base_name, base_name, "", base_id)


def inventory_markdown(inventory: Inventory) -> str:
    lines = [
        f"# {inventory.image} {inventory.release}",
        "",
        "| | |",
        "| --- | --- |",
        f"| reference | `{inventory.reference}` |",
        f"| tags | {', '.join(f'`{t}`' for t in inventory.tags)} |",
        f"| digest | `{inventory.digest}` |",
        f"| size | {inventory.size / 1e6:.0f} MB "
        f"({inventory.compressed_size / 1e6:.0f} MB compressed) |",
        f"| created | {inventory.created} |",
        f"| git revision | `{inventory.revision}` |",
        f"| parent | `{inventory.parent.reference}` |",
        f"| Python | {inventory.python} |",
        f"| JupyterHub | {inventory.jupyterhub or '-'} |",
        f"| JupyterLab | {inventory.jupyterlab or '-'} |",
        "",
        *_table(f"Python packages ({len(inventory.python_packages)})", inventory.python_packages),
        *_table(f"Debian packages ({len(inventory.debian_packages)})", inventory.debian_packages),
    ]
    return "\n".join(lines)


def _table(title: str, packages: dict[str, str]) -> list[str]:
    return [
        f"## {title}",
        "",
        "| package | version |",
        "| --- | --- |",
        *(f"| {name} | {version} |" for name, version in packages.items()),
        "",
    ]
