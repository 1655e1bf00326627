"""Apply every tag rule to an image's facts: valid, unique tags in rule order."""

from __future__ import annotations

import re

from hubimages.builder.tagging.taggers import TAGGERS, ImageFacts
from hubimages.model.spec import ImageSpec


def sanitize(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:128]


def compute_tags(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    tags: list[str] = []
    for tagger in TAGGERS:
        for tag in tagger(spec, facts):
            tag = sanitize(tag)
            if tag not in tags:
                tags.append(tag)
    return tags
