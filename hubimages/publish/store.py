"""The records of what was published to one registry target, and their layout on disk:

pushes.jsonl                     every digest ever pushed there (append-only)
releases/<tag>/release.json      the release record (publish.records.Release)
releases/<tag>/<image>.json|.md  the package inventory of each image (publish.inventory)
releases/<tag>/workflows.json    the workflows that passed on its digests (publish.workflow_records)
history.json, HISTORY.md         the releases, newest first
profiles/                        the spawner profiles (publish.profiles)
catalogue/                       environments and workflows, JSON and HTML (publish.catalogue)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hubimages.core.clock import utc_timestamp
from hubimages.core.files import write_atomically, write_json
from hubimages.errors import HubImagesError
from hubimages.publish.history import history_markdown
from hubimages.publish.inventory import Inventory, inventory_markdown
from hubimages.publish.records import Release

HISTORY = "history.json"


@dataclass(frozen=True)
class ReleaseStore:
    folder: Path

    @property
    def pushes(self) -> Path:
        return self.folder / "pushes.jsonl"

    @property
    def profiles(self) -> Path:
        return self.folder / "profiles"

    @property
    def history_file(self) -> Path:
        return self.folder / HISTORY

    @property
    def catalogue(self) -> Path:
        return self.folder / "catalogue"

    def workflows_file(self, tag: str) -> Path:
        return self.release_dir(tag) / "workflows.json"

    def release_dir(self, tag: str) -> Path:
        return self.folder / "releases" / tag

    def record_push(self, repository: str, tag: str, digest: str, image_id: str) -> None:
        """Append-only log of every digest pushed, also of releases that did not finish."""
        self.pushes.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "repository": repository,
            "tag": tag,
            "digest": digest,
            "image_id": image_id,
            "pushed": utc_timestamp(),
        }
        with self.pushes.open("a") as out:
            out.write(json.dumps(entry) + "\n")

    def write_release(self, release: Release) -> None:
        write_atomically(self.release_dir(release.tag) / "release.json", release.to_json())

    def write_inventory(self, inventory: Inventory) -> None:
        folder = self.release_dir(inventory.release)
        write_json(folder / f"{inventory.image}.json", inventory.to_dict())
        write_atomically(folder / f"{inventory.image}.md", inventory_markdown(inventory))

    def load_inventory(self, name: str, tag: str) -> Inventory:
        path = self.release_dir(tag) / f"{name}.json"
        if not path.is_file():
            known = [r.tag for r in self.history() if r.image(name)]
            raise HubImagesError(
                f"no inventory of {name} for release {tag!r} in {self.folder.name}; releases "
                f"with {name}: {', '.join(known) or 'none'}"
            )
        return Inventory.from_dict(json.loads(path.read_text()))

    def history(self) -> list[Release]:
        if not self.history_file.is_file():
            return []
        return [Release.from_dict(item) for item in json.loads(self.history_file.read_text())]

    def add_to_history(self, release: Release) -> list[Release]:
        """The release goes first; a rerun of the same tag replaces its earlier entry."""
        history = [release, *(r for r in self.history() if r.tag != release.tag)]
        write_json(self.history_file, [r.to_dict() for r in history])
        write_atomically(self.folder / "HISTORY.md", history_markdown(history))
        return history


def stores_with_history(publish_root: Path) -> list[ReleaseStore]:
    return [ReleaseStore(p.parent) for p in sorted(publish_root.glob(f"*/{HISTORY}"))]
