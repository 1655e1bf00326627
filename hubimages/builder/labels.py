"""The labels of a built image: OCI annotations, our input hash, and versions hubs match."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hubimages.builder.tagging.release_tag import ReleaseTag
from hubimages.core.clock import build_time, utc_timestamp
from hubimages.core.urls import public_url
from hubimages.deps.lockfile import Lock
from hubimages.model.spec import ImageSpec, Variant

OCI = "org.opencontainers.image."
CREATED = OCI + "created"
REVISION = OCI + "revision"
SOURCE = OCI + "source"
TITLE = OCI + "title"
DESCRIPTION = OCI + "description"
VERSION = OCI + "version"  # the build run's release tag (build.tagging.release_tag)
BASE_NAME = OCI + "base.name"
BASE_DIGEST = OCI + "base.digest"
INPUTS_HASH = "org.skahub.inputs-hash"
DIRTY = "org.skahub.dirty"  # "true" when built from uncommitted changes (tag ends in -dirty)
# The matrix variant the image was built in, its Debian suite and Python (major.minor).
VARIANT = "org.skahub.variant"
DEBIAN_SUITE = "org.skahub.debian.suite"
PYTHON = "org.skahub.python"
# Read by `invoke profiles --release` from the registry, so admins can match their hub.
VERSION_LABELS = {
    "jupyterhub": "org.skahub.jupyterhub.version",
    "jupyterlab": "org.skahub.jupyterlab.version",
}


@dataclass(frozen=True)
class Provenance:
    """Where a build run comes from; an image built from uncommitted files gets the dirty
    variant of the run's tag."""

    revision: str  # full git sha, or 40 zeros outside git
    source: str  # the origin URL, already without credentials; "" when there is none
    tag: ReleaseTag

    @property
    def release_tag(self) -> str:
        return str(self.tag)

    def as_dirty(self) -> Provenance:
        return replace(self, tag=replace(self.tag, dirty=True))

    def for_variant(self, variant: Variant) -> Provenance:
        """The same run, tagged as the variant's images are."""
        return replace(self, tag=self.tag.for_variant(variant))


def image_labels(
    spec: ImageSpec,
    variant: Variant,
    inputs: str,
    parent_name: str,
    parent_id: str,
    provenance: Provenance,
    lock: Lock,
) -> dict[str, str]:
    """Every label is set, empty when unknown: an image inherits its parent's labels, and a
    parent's value (its source, its dirty mark) must not pass for the child's."""
    labels = {
        CREATED: utc_timestamp(build_time()),
        REVISION: provenance.revision,
        TITLE: spec.display_name,
        DESCRIPTION: spec.description,
        VERSION: provenance.release_tag,
        BASE_NAME: parent_name,
        INPUTS_HASH: inputs,
        # never a token, whatever the caller passed
        SOURCE: public_url(provenance.source) if provenance.source else "",
        BASE_DIGEST: parent_id if parent_id.startswith("sha256:") else "",
        DIRTY: "true" if provenance.tag.dirty else "false",
        VARIANT: variant.name,
        DEBIAN_SUITE: variant.suite,
        PYTHON: variant.python,
    }
    labels.update(version_labels(lock))
    return labels


def version_labels(lock: Lock) -> dict[str, str]:
    """The hub-facing versions, from the lock: a registry client can read them without a pull."""
    pinned = lock.versions()
    return {
        label: pinned[package] for package, label in VERSION_LABELS.items() if package in pinned
    }
