"""Tag rules are plain functions of the image's facts."""

from __future__ import annotations

from hubimages.builder.tagging.release_tag import ReleaseTag, is_immutable, moving_tags
from hubimages.builder.tagging.taggers import ImageFacts
from hubimages.builder.tagging.tags import compute_tags, sanitize
from hubimages.model.spec import ImageSpec

FACTS = ImageFacts(
    python="3.11.2",
    packages={"jupyterlab": "4.6.6", "notebook": "7.5.0", "jupyterhub": "5.5.4", "bdsf": "1.14.1"},
    release_tag="2026-11-24-1a2b3c4",
)


def spec(**kwargs) -> ImageSpec:
    return ImageSpec(name="pybdsf", display_name="P", description="d", parent="base", **kwargs)


def test_all_rules() -> None:
    assert compute_tags(spec(tag_packages=("bdsf",)), FACTS) == [
        "latest",
        "2026-11-24-1a2b3c4",
        "python-3.11",
        "python-3.11.2",
        "lab-4.6.6",
        "notebook-7.5.0",
        "hub-5.5.4",
        "bdsf-1.14.1",
    ]


def test_missing_packages_make_no_tags() -> None:
    facts = ImageFacts(python="3.11.2", packages={}, release_tag="2026-11-24-1a2b3c4")
    assert compute_tags(spec(tag_packages=("bdsf",)), facts) == [
        "latest",
        "2026-11-24-1a2b3c4",
        "python-3.11",
        "python-3.11.2",
    ]


def test_no_release_tag_no_immutable_tag() -> None:
    facts = ImageFacts(python="3.11.2")
    assert "latest" in compute_tags(spec(), facts)
    assert not any(t.startswith("20") for t in compute_tags(spec(), facts))


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


def test_moving_and_immutable_tags() -> None:
    tags = [
        "latest",
        "2026-11-24-69be984",
        "python-3.11",
        "lab-4.6.6",
        "2026-01-02-abcdef0123",
        "2026-01-03-abcdef0-dirty",
    ]
    assert moving_tags(tags) == ["latest", "python-3.11", "lab-4.6.6"]
    assert is_immutable("2026-11-24-69be984")
    assert not is_immutable("2026-11-24")
