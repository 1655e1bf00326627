"""The immutable tag `<UTC date>-<git short sha>`: one per build run, never recomputed.

The build run decides it once and writes it into every image it builds (the
org.opencontainers.image.version label and a local tag); a push reads it back from the label,
so an image built before midnight and pushed after it keeps its tag. A variant that is not the
default prefixes it with its Python: `python-3.11-<date>-<sha>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from hubimages.model.spec import Variant

IMMUTABLE_TAG = re.compile(
    r"^(?:(python-\d+\.\d+)-)?(\d{4}-\d{2}-\d{2})-([0-9a-f]{7,40})(-dirty)?$"
)


@dataclass(frozen=True)
class ReleaseTag:
    date: str  # YYYY-MM-DD, UTC, when the build run started
    sha: str  # git short sha the images were built from
    dirty: bool = False  # built from uncommitted changes (only with an explicit flag)
    prefix: str = ""  # the variant's tag prefix (python-3.11); "" for the default variant

    def __str__(self) -> str:
        plain = f"{self.date}-{self.sha}{'-dirty' if self.dirty else ''}"
        return f"{self.prefix}-{plain}" if self.prefix else plain

    def for_variant(self, variant: Variant) -> ReleaseTag:
        """The same build run's tag as the variant's images carry it."""
        return replace(self, prefix="" if variant.default else variant.tag_prefix)

    @classmethod
    def parse(cls, text: str) -> ReleaseTag | None:
        match = IMMUTABLE_TAG.match(text)
        if match is None:
            return None
        return cls(match.group(2), match.group(3), bool(match.group(4)), match.group(1) or "")


def immutable_tags(variant: Variant, release_tag: str) -> list[str]:
    """The immutable tags of an image of `variant` released under `release_tag`: that tag, and
    for the default variant the same with its Python prefix too (so `python-3.13-<date>-<sha>`
    names every Python 3.13 build, before and after a change of default variant)."""
    if not release_tag:
        return []
    if variant.default:
        return [release_tag, f"{variant.tag_prefix}-{release_tag}"]
    return [release_tag]


def variant_of(variants: Iterable[Variant], tag: ReleaseTag) -> Variant | None:
    """The variant whose release a tag is; None for the default variant's python-prefixed
    alias of its release tag (immutable_tags) or a variant the matrix does not have."""
    for variant in variants:
        if tag.prefix == ("" if variant.default else variant.tag_prefix):
            return variant
    return None


def is_immutable(tag: str) -> bool:
    return IMMUTABLE_TAG.match(tag) is not None


def moving_tags(tags: list[str]) -> list[str]:
    """The tags that follow the newest image (latest, python-3.11, lab-4.x...)."""
    return [t for t in tags if not is_immutable(t)]
