"""Tag rules are plain functions of the image's facts."""

from __future__ import annotations

from hubimages.matrix import ImageSpec
from hubimages.tags import ImageFacts, compute_tags, sanitize

FACTS = ImageFacts(
    python="3.11.2",
    packages={"jupyterlab": "4.6.6", "notebook": "7.5.0", "jupyterhub": "5.5.4",
              "bdsf": "1.14.1"},
    date="2026-11-24", git_sha="1a2b3c4",
)


def spec(**kwargs) -> ImageSpec:
    return ImageSpec(name="pybdsf", display_name="P", description="d", parent="base", **kwargs)


def test_all_rules() -> None:
    assert compute_tags(spec(tag_packages=("bdsf",)), FACTS) == [
        "latest", "2026-11-24-1a2b3c4", "python-3.11", "python-3.11.2", "lab-4.6.6",
        "notebook-7.5.0", "hub-5.5.4", "bdsf-1.14.1",
    ]


def test_missing_packages_make_no_tags() -> None:
    facts = ImageFacts(python="3.11.2", packages={}, date="2026-11-24", git_sha="1a2b3c4")
    assert compute_tags(spec(tag_packages=("bdsf",)), facts) == [
        "latest", "2026-11-24-1a2b3c4", "python-3.11", "python-3.11.2"]


def test_no_revision_no_immutable_tag() -> None:
    facts = ImageFacts(python="3.11.2", date="", git_sha="")
    assert "latest" in compute_tags(spec(), facts)
    assert not any(t.startswith("20") for t in compute_tags(spec(), facts))


def test_sanitize_keeps_tags_valid() -> None:
    assert sanitize("lab-4.0.0+local") == "lab-4.0.0-local"
    assert len(sanitize("x" * 300)) == 128
