"""Tag rules, computed from what is inside the built image, one plain function per rule."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from docker import DockerClient

from hubimages.matrix import ImageSpec

# Printed by the image's own Python: its version and the versions of every installed package.
FACTS_SCRIPT = (
    "import json, platform, importlib.metadata as m;"
    "print(json.dumps({'python': platform.python_version(),"
    "'packages': {d.metadata['Name'].lower(): d.version for d in m.distributions()}}))"
)
# Short prefixes for the packages hub admins match against (docker-stacks uses the same idea).
PACKAGE_PREFIXES = {"jupyterlab": "lab", "notebook": "notebook", "jupyterhub": "hub"}
IMMUTABLE_TAG = re.compile(r"^\d{4}-\d{2}-\d{2}-[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class ImageFacts:
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    date: str = ""
    git_sha: str = ""


Tagger = Callable[[ImageSpec, ImageFacts], list[str]]


def read_facts(client: DockerClient, image_id: str, date: str, git_sha: str) -> ImageFacts:
    """Ask the image itself: no network, removed afterwards."""
    output = client.containers.run(
        image_id, ["python", "-c", FACTS_SCRIPT], entrypoint=[], network_mode="none",
        remove=True, user="1000", labels={"hubimages.facts": "1"},
    )
    data = json.loads(output.decode().strip().splitlines()[-1])
    return ImageFacts(python=data["python"], packages=data["packages"], date=date,
                      git_sha=git_sha)


def sanitize(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", tag)[:128]


def latest_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    return ["latest"]


def immutable_tag(date: str, git_sha: str) -> str:
    """<YYYY-MM-DD>-<git short sha>: a registry never gets it twice with different content."""
    return f"{date}-{git_sha}"


def is_immutable(tag: str) -> bool:
    return IMMUTABLE_TAG.match(tag) is not None


def moving_tags(tags: list[str]) -> list[str]:
    """The tags that follow the newest image (latest, python-3.11, lab-4.x...)."""
    return [t for t in tags if not is_immutable(t)]


def immutable_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """Date of the build and git revision: never reused for different content."""
    return [immutable_tag(facts.date, facts.git_sha)] if facts.date and facts.git_sha else []


def python_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    major_minor = ".".join(facts.python.split(".")[:2])
    return [f"python-{major_minor}", f"python-{facts.python}"]


def jupyter_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    return [f"{prefix}-{facts.packages[pkg]}" for pkg, prefix in PACKAGE_PREFIXES.items()
            if pkg in facts.packages]


def key_package_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """Versions of the packages the matrix names under tag_packages."""
    tags = []
    for pkg in spec.tag_packages:
        version = facts.packages.get(pkg.lower())
        if version:
            tags.append(f"{pkg.lower()}-{version}")
    return tags


TAGGERS: tuple[Tagger, ...] = (
    latest_tagger, immutable_tagger, python_tagger, jupyter_tagger, key_package_tagger,
)


def compute_tags(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    tags: list[str] = []
    for tagger in TAGGERS:
        for tag in tagger(spec, facts):
            tag = sanitize(tag)
            if tag not in tags:
                tags.append(tag)
    return tags
