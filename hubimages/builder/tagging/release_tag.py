"""The immutable tag `<UTC date>-<git short sha>`: one per build run, never recomputed.

The build run decides it once and writes it into every image it builds (the
org.opencontainers.image.version label and a local tag); a push reads it back from the label,
so an image built before midnight and pushed after it keeps its tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IMMUTABLE_TAG = re.compile(r"^(\d{4}-\d{2}-\d{2})-([0-9a-f]{7,40})(-dirty)?$")


@dataclass(frozen=True)
class ReleaseTag:
    date: str  # YYYY-MM-DD, UTC, when the build run started
    sha: str  # git short sha the images were built from
    dirty: bool = False  # built from uncommitted changes (only with an explicit flag)

    def __str__(self) -> str:
        return f"{self.date}-{self.sha}{'-dirty' if self.dirty else ''}"

    @classmethod
    def parse(cls, text: str) -> ReleaseTag | None:
        match = IMMUTABLE_TAG.match(text)
        if match is None:
            return None
        return cls(match.group(1), match.group(2), bool(match.group(3)))


def is_immutable(tag: str) -> bool:
    return IMMUTABLE_TAG.match(tag) is not None


def moving_tags(tags: list[str]) -> list[str]:
    """The tags that follow the newest image (latest, python-3.11, lab-4.x...)."""
    return [t for t in tags if not is_immutable(t)]
