"""The provenance of a released image: a SLSA v1 provenance predicate (in an in-toto statement,
see publish.trust.attach) naming what made it.

- externalParameters: the image and its variant (name, Debian suite, Python), the git source:
  repository, commit, whether uncommitted files went in (`dirty`);
- resolvedDependencies: the commit, build-matrix.yaml and the image's lock of that variant
  (sha256 each), and the parent: its published digest and image id, or for the bootstrapped
  root the rootfs tarball's sha256 with the Debian archive's state at the time it was made (a
  snapshot.debian.org URL);
- runDetails: the builder (this tool's recipe version, the engine's version), the build and
  release times, and as a byproduct the container tests that gated the push: the JUnit
  report's sha256, the counts, the test suite's sha256.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubimages import RECIPE_VERSION
from hubimages.builder import labels as label
from hubimages.core.files import file_sha256
from hubimages.model.spec import Variant
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.trust.verification import TESTS_BYPRODUCT
from hubimages.verify.results import TestRecord

# Where the build type and the builder are described: the document in the source repository
# at the commit built, when the repository has a public URL.
DOCUMENT = "docs/supply-chain.md"
FALLBACK = "urn:x-hubimages:"


@dataclass(frozen=True)
class RootFs:
    """The bootstrapped Debian root an image was built on."""

    tarball: Path
    suite: str


@dataclass(frozen=True)
class ProvenanceInput:
    image: PublishedImage
    release: Release
    labels: dict[str, str]
    matrix_file: Path
    lock_file: Path
    variant: Variant  # what the image was built on: its Debian suite and Python
    engine_version: str
    tests: TestRecord | None  # the record that gated the push; None when tests were not gated
    tests_gated: bool
    rootfs: RootFs | None = None  # for an image built on the bootstrapped root


def provenance(data: ProvenanceInput) -> dict[str, Any]:
    root = data.matrix_file.parent
    source = data.labels.get(label.SOURCE, "")
    commit = data.labels.get(label.REVISION, "")
    return {
        "buildDefinition": {
            "buildType": _described(source, commit, "build-type-v1"),
            "externalParameters": {
                "image": data.image.name,
                "variant": data.variant.name,
                "debian": data.variant.suite,
                "python": data.variant.python,
                "source": {
                    "repository": source,
                    "commit": commit,
                    "dirty": data.labels.get(label.DIRTY) == "true",
                },
            },
            "internalParameters": {"inputsHash": data.labels.get(label.INPUTS_HASH, "")},
            "resolvedDependencies": [
                {
                    "uri": f"git+{source}@{commit}" if source else "",
                    "digest": {"gitCommit": commit},
                },
                _file(data.matrix_file, root),
                *([_file(data.lock_file, root)] if data.lock_file.is_file() else []),
                _parent(data),
            ],
        },
        "runDetails": {
            "builder": {
                "id": _described(source, commit, "builder"),
                "version": {"recipe": RECIPE_VERSION, "docker-engine": data.engine_version},
            },
            "metadata": {
                "invocationId": data.release.tag,
                "startedOn": data.labels.get(label.CREATED, ""),
                "finishedOn": data.release.created,
            },
            "byproducts": [_tests(data.tests, data.tests_gated)],
        },
    }


def _described(source: str, commit: str, anchor: str) -> str:
    return f"{source}/blob/{commit}/{DOCUMENT}#{anchor}" if source else FALLBACK + anchor


def _file(path: Path, root: Path) -> dict[str, Any]:
    return {"name": str(path.relative_to(root)), "digest": {"sha256": file_sha256(path)}}


def _parent(data: ProvenanceInput) -> dict[str, Any]:
    base_id = data.labels.get(label.BASE_DIGEST, "")
    for other in data.release.images:
        if other.image_id == base_id and other.name != data.image.name:
            return {
                "name": "parent",
                "uri": f"oci://{other.repository}@{other.digest}",
                "digest": {"sha256": other.digest.removeprefix("sha256:")},
                "annotations": {"image": other.name, "imageId": base_id},
            }
    if data.rootfs is not None and data.rootfs.tarball.is_file():
        made = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(data.rootfs.tarball.stat().st_mtime))
        return {
            "name": "rootfs",
            "uri": f"https://snapshot.debian.org/archive/debian/{made}/",
            "digest": {"sha256": file_sha256(data.rootfs.tarball)},
            "annotations": {"suite": data.rootfs.suite, "imageId": base_id, "bootstrapped": made},
        }
    return {  # a parent from outside the release: what the image was built on
        "name": "parent",
        "uri": data.labels.get(label.BASE_NAME, ""),
        "digest": {"sha256": base_id.removeprefix("sha256:")} if base_id else {},
        "annotations": {"imageId": base_id},
    }


def _tests(record: TestRecord | None, gated: bool) -> dict[str, Any]:
    if record is None:
        return {"name": TESTS_BYPRODUCT, "annotations": {"gated": gated, "passed": False}}
    return {
        "name": TESTS_BYPRODUCT,
        "digest": {"sha256": record.junit_sha256},
        "annotations": {
            "gated": gated,
            "passed": record.passed and gated,
            "tests": record.tests,
            "failures": record.failures,
            "suite_sha256": record.suite_sha256,
            "finished": record.finished,
        },
    }
