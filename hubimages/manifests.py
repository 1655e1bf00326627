"""Build manifests (what is in each released image), the release history, and diffs between them.

Everything a release writes lives in one folder per registry target (`publish_dir`):
    pushes.jsonl                     every digest ever pushed there
    releases/<tag>/release.json      the release record (records.Release)
    releases/<tag>/<image>.json|.md  the manifest of each image
    history.json, HISTORY.md         the releases, newest first
    profiles/                        the spawner profiles (profiles.py)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker import DockerClient

from hubimages.builder import cache_dir
from hubimages.errors import HubImagesError
from hubimages.matrix import Matrix
from hubimages.records import PublishedImage, Release, write_atomically
from hubimages.registry import RegistryTarget

log = logging.getLogger(__name__)

# Printed by the image itself: Python, its packages, and Debian's packages.
CONTENTS_SCRIPT = r"""
import json, platform, subprocess, importlib.metadata as m
deb = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"],
                     capture_output=True, text=True).stdout
print(json.dumps({
    "python": platform.python_version(),
    "python_packages": {d.metadata["Name"].lower(): d.version for d in m.distributions()},
    "debian_packages": dict(line.split("\t", 1) for line in deb.splitlines() if "\t" in line),
}))
"""


def publish_dir(matrix: Matrix, target: RegistryTarget) -> Path:
    return cache_dir(matrix) / "publish" / target.slug


def release_dir(folder: Path, tag: str) -> Path:
    return folder / "releases" / tag


def image_contents(client: DockerClient, image_id: str) -> dict[str, Any]:
    output = client.containers.run(
        image_id, ["python", "-c", CONTENTS_SCRIPT], entrypoint=[], network_mode="none",
        remove=True, user="1000", labels={"hubimages.manifest": "1"})
    return json.loads(output.decode().strip().splitlines()[-1])


def build_manifest(client: DockerClient, release: Release, image: PublishedImage,
                   remote_size: int = 0) -> dict[str, Any]:
    local = client.images.get(image.image_id)
    labels = local.labels or {}
    parent = _parent(release, image, labels)
    contents = image_contents(client, image.image_id)
    packages = contents["python_packages"]
    return {
        "image": image.name,
        "release": release.tag,
        "repository": image.repository,
        "reference": image.pinned,
        "tags": [image.tag, *image.moving_tags],
        "digest": image.digest,
        "image_id": image.image_id,
        "size": local.attrs["Size"],
        "compressed_size": remote_size,
        "created": labels.get("org.opencontainers.image.created", local.attrs.get("Created")),
        "revision": labels.get("org.opencontainers.image.revision", ""),
        "release_revision": release.revision,
        "parent": parent,
        "python": contents["python"],
        "jupyterhub": packages.get("jupyterhub", ""),
        "jupyterlab": packages.get("jupyterlab", ""),
        "python_packages": dict(sorted(packages.items())),
        "debian_packages": dict(sorted(contents["debian_packages"].items())),
    }


def _parent(release: Release, image: PublishedImage, labels: dict[str, str]) -> dict[str, str]:
    """The parent as published in the same release, else what the image was built on."""
    base_name = labels.get("org.opencontainers.image.base.name", "")
    base_id = labels.get("org.opencontainers.image.base.digest", "")
    for other in release.images:
        if other.image_id == base_id:
            return {"name": other.name, "reference": other.pinned, "digest": other.digest,
                    "image_id": base_id}
    return {"name": base_name, "reference": base_name, "digest": "", "image_id": base_id}


def manifest_markdown(manifest: dict[str, Any]) -> str:
    mb = manifest["size"] / 1e6
    parent = manifest["parent"]
    lines = [
        f"# {manifest['image']} {manifest['release']}",
        "",
        "| | |",
        "| --- | --- |",
        f"| reference | `{manifest['reference']}` |",
        f"| tags | {', '.join(f'`{t}`' for t in manifest['tags'])} |",
        f"| digest | `{manifest['digest']}` |",
        f"| size | {mb:.0f} MB ({manifest['compressed_size'] / 1e6:.0f} MB compressed) |",
        f"| created | {manifest['created']} |",
        f"| git revision | `{manifest['revision']}` |",
        f"| parent | `{parent['reference']}` |",
        f"| Python | {manifest['python']} |",
        f"| JupyterHub | {manifest['jupyterhub'] or '-'} |",
        f"| JupyterLab | {manifest['jupyterlab'] or '-'} |",
        "",
        f"## Python packages ({len(manifest['python_packages'])})",
        "",
        "| package | version |",
        "| --- | --- |",
        *(f"| {name} | {version} |" for name, version in manifest["python_packages"].items()),
        "",
        f"## Debian packages ({len(manifest['debian_packages'])})",
        "",
        "| package | version |",
        "| --- | --- |",
        *(f"| {name} | {version} |" for name, version in manifest["debian_packages"].items()),
        "",
    ]
    return "\n".join(lines)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    target = release_dir(folder, manifest["release"])
    write_atomically(target / f"{manifest['image']}.json", json.dumps(manifest, indent=2) + "\n")
    write_atomically(target / f"{manifest['image']}.md", manifest_markdown(manifest))


def write_release(folder: Path, release: Release) -> None:
    write_atomically(release_dir(folder, release.tag) / "release.json", release.to_json())


# -- history --------------------------------------------------------------------------------


def load_history(folder: Path) -> list[Release]:
    path = folder / "history.json"
    if not path.is_file():
        return []
    return [Release.from_dict(item) for item in json.loads(path.read_text())]


def add_to_history(folder: Path, release: Release) -> list[Release]:
    """The release goes first; a rerun of the same tag replaces its earlier entry."""
    history = [release, *(r for r in load_history(folder) if r.tag != release.tag)]
    write_atomically(folder / "history.json",
                     json.dumps([json.loads(r.to_json()) for r in history], indent=2) + "\n")
    write_atomically(folder / "HISTORY.md", history_markdown(history))
    return history


def history_markdown(history: list[Release]) -> str:
    lines = ["# Releases", "", "Newest first. Each image links to its manifest.", "",
             "| release | created | git revision | images |", "| --- | --- | --- | --- |"]
    for release in history:
        images = ", ".join(
            f"[{i.name}](releases/{release.tag}/{i.name}.md) `{i.digest[7:19]}`"
            for i in release.images)
        lines.append(f"| {release.tag} | {release.created} | `{release.revision[:7]}` | "
                     f"{images} |")
    return "\n".join(lines) + "\n"


# -- diff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageChange:
    kind: str  # python | debian
    name: str
    old: str  # "" when added
    new: str  # "" when removed


def load_manifest(folder: Path, name: str, tag: str) -> dict[str, Any]:
    path = release_dir(folder, tag) / f"{name}.json"
    if not path.is_file():
        known = [r.tag for r in load_history(folder) if r.image(name)]
        raise HubImagesError(
            f"no manifest of {name} for release {tag!r} in {folder.name}; releases with "
            f"{name}: {', '.join(known) or 'none'}")
    return json.loads(path.read_text())


def diff_manifests(old: dict[str, Any], new: dict[str, Any]) -> list[PackageChange]:
    changes = []
    for kind in ("python", "debian"):
        before, after = old[f"{kind}_packages"], new[f"{kind}_packages"]
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                changes.append(PackageChange(kind, name, before.get(name, ""),
                                             after.get(name, "")))
    return changes


def format_diff(name: str, old_tag: str, new_tag: str, changes: list[PackageChange]) -> str:
    if not changes:
        return f"{name}: no package changes between {old_tag} and {new_tag}"
    lines = [f"{name}: {len(changes)} package changes from {old_tag} to {new_tag}"]
    for change in changes:
        if not change.old:
            lines.append(f"  + {change.kind:6} {change.name} {change.new}")
        elif not change.new:
            lines.append(f"  - {change.kind:6} {change.name} {change.old}")
        else:
            lines.append(f"  ~ {change.kind:6} {change.name} {change.old} -> {change.new}")
    return "\n".join(lines)
