"""Tag rules are plain functions of the image's facts; every variant's tags name it."""

from __future__ import annotations

from hubimages.builder.tagging.release_tag import (
    ReleaseTag,
    immutable_tags,
    is_immutable,
    moving_tags,
    variant_of,
)
from hubimages.builder.tagging.taggers import ImageFacts
from hubimages.builder.tagging.tags import compute_tags, sanitize
from hubimages.model.spec import ImageSpec, Variant

TRIXIE = Variant("trixie", "trixie", "3.13", "2.41", default=True)
BOOKWORM = Variant("bookworm", "bookworm", "3.11", "2.36")
PACKAGES = {"jupyterlab": "4.6.6", "notebook": "7.5.0", "jupyterhub": "5.5.4", "bdsf": "1.14.1"}
FACTS = ImageFacts(
    python="3.13.5", variant=TRIXIE, packages=PACKAGES, release_tag="2026-11-24-1a2b3c4"
)


def spec(**kwargs) -> ImageSpec:
    return ImageSpec(name="pybdsf", display_name="P", description="d", parent="base", **kwargs)


def test_all_rules_of_the_default_variant_keep_the_plain_scheme() -> None:
    assert compute_tags(spec(tag_packages=("bdsf",)), FACTS) == [
        "latest",
        "2026-11-24-1a2b3c4",
        "python-3.13-2026-11-24-1a2b3c4",
        "python-3.13",
        "python-3.13.5",
        "lab-4.6.6",
        "notebook-7.5.0",
        "hub-5.5.4",
        "bdsf-1.14.1",
    ]


def test_another_variant_s_tags_all_name_its_python() -> None:
    release = ReleaseTag("2026-11-24", "1a2b3c4").for_variant(BOOKWORM)
    facts = ImageFacts(
        python="3.11.2", variant=BOOKWORM, packages=PACKAGES, release_tag=str(release)
    )
    assert compute_tags(spec(tag_packages=("bdsf",)), facts) == [
        "python-3.11",
        "python-3.11-2026-11-24-1a2b3c4",
        "python-3.11.2",
        "python-3.11-lab-4.6.6",
        "python-3.11-notebook-7.5.0",
        "python-3.11-hub-5.5.4",
        "python-3.11-bdsf-1.14.1",
    ]
    assert "latest" not in compute_tags(spec(), facts)


def test_missing_packages_make_no_tags() -> None:
    facts = ImageFacts(python="3.13.5", variant=TRIXIE, release_tag="2026-11-24-1a2b3c4")
    assert compute_tags(spec(tag_packages=("bdsf",)), facts) == [
        "latest",
        "2026-11-24-1a2b3c4",
        "python-3.13-2026-11-24-1a2b3c4",
        "python-3.13",
        "python-3.13.5",
    ]


def test_no_release_tag_no_immutable_tag() -> None:
    facts = ImageFacts(python="3.13.5", variant=TRIXIE)
    assert "latest" in compute_tags(spec(), facts)
    assert not any(is_immutable(t) for t in compute_tags(spec(), facts))


def test_sanitize_keeps_tags_valid() -> None:
    assert sanitize("lab-4.0.0+local") == "lab-4.0.0-local"
    assert len(sanitize("x" * 300)) == 128


def test_release_tag_round_trip() -> None:
    tag = ReleaseTag("2026-11-24", "1a2b3c4")
    assert str(tag) == "2026-11-24-1a2b3c4"
    assert ReleaseTag.parse(str(tag)) == tag
    dirty = ReleaseTag("2026-11-24", "1a2b3c4", dirty=True)
    assert str(dirty) == "2026-11-24-1a2b3c4-dirty"
    assert ReleaseTag.parse(str(dirty)) == dirty
    assert ReleaseTag.parse("latest") is None
    other = dirty.for_variant(BOOKWORM)
    assert str(other) == "python-3.11-2026-11-24-1a2b3c4-dirty"
    assert ReleaseTag.parse(str(other)) == other
    assert other.for_variant(TRIXIE) == dirty


def test_immutable_tags_and_the_variant_they_name() -> None:
    assert immutable_tags(TRIXIE, "2026-11-24-1a2b3c4") == [
        "2026-11-24-1a2b3c4",
        "python-3.13-2026-11-24-1a2b3c4",
    ]
    assert immutable_tags(BOOKWORM, "python-3.11-2026-11-24-1a2b3c4") == [
        "python-3.11-2026-11-24-1a2b3c4"
    ]
    assert immutable_tags(TRIXIE, "") == []
    variants = [TRIXIE, BOOKWORM]

    def named(tag: str) -> Variant | None:
        parsed = ReleaseTag.parse(tag)
        assert parsed is not None
        return variant_of(variants, parsed)

    assert named("2026-11-24-1a2b3c4") == TRIXIE
    assert named("python-3.11-2026-11-24-1a2b3c4") == BOOKWORM
    assert named("python-3.13-2026-11-24-1a2b3c4") is None  # the default's alias
    assert named("python-3.12-2026-11-24-1a2b3c4") is None  # no such variant


def test_moving_and_immutable_tags() -> None:
    tags = [
        "latest",
        "2026-11-24-69be984",
        "python-3.11",
        "python-3.11-2026-11-24-69be984",
        "python-3.11-lab-4.6.6",
        "lab-4.6.6",
        "2026-01-02-abcdef0123",
        "2026-01-03-abcdef0-dirty",
    ]
    assert moving_tags(tags) == ["latest", "python-3.11", "python-3.11-lab-4.6.6", "lab-4.6.6"]
    assert is_immutable("2026-11-24-69be984")
    assert is_immutable("python-3.11-2026-11-24-69be984")
    assert not is_immutable("2026-11-24")
    assert not is_immutable("python-3.11")
