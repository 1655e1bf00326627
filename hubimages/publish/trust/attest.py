"""After the push: each image's SBOM, provenance and vulnerability audit, signed with the site
key and attached in the registry, with the image's own signature; copies in the records."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from docker import DockerClient
from securesystemslib.signer import Signer

from hubimages.builder.rootfs import rootfs_key
from hubimages.core.cache import CacheLayout
from hubimages.core.files import write_atomically, write_json
from hubimages.model.spec import Matrix
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.registry import RegistryClient
from hubimages.publish.retry import RetryPolicy, with_retries
from hubimages.publish.trust.attach import attach, attestation_layer, signature_layer
from hubimages.publish.trust.audit import ImageAudit
from hubimages.publish.trust.contents import image_inventory
from hubimages.publish.trust.gate import lock_of
from hubimages.publish.trust.provenance import ProvenanceInput, RootFs, provenance
from hubimages.publish.trust.sbom import SbomInput, sbom_json
from hubimages.publish.trust.verification import PROVENANCE, SBOM, VULNERABILITIES
from hubimages.verify.results import gate_refusal, load_record
from hubimages.verify.selection import suite_sha256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attester:
    client: DockerClient
    matrix: Matrix
    cache: CacheLayout
    registry: RegistryClient
    signer: Signer
    policy: RetryPolicy
    tests_gated: bool  # whether the push required passed tests (False: `invoke e2e`'s registry)
    allow_unaudited: bool = False

    def attest_all(self, release: Release, audits: dict[str, ImageAudit], records: Path) -> float:
        """Every image of the release; the seconds it took."""
        started = time.monotonic()
        for image in release.images:
            self.attest(release, image, audits.get(image.name), records)
        return time.monotonic() - started

    def attest(
        self, release: Release, image: PublishedImage, audit: ImageAudit | None, records: Path
    ) -> None:
        labels: dict[str, str] = self.client.images.get(image.image_id).labels or {}
        sbom = json.loads(self._sbom(image, labels))
        origin = self._provenance(release, image, labels)
        vulnerabilities = (
            audit.predicate(self.tests_gated, self.allow_unaudited)
            if audit is not None
            else {"scanner": {"result": {"audited": False}}}
        )
        layers = [
            attestation_layer(self.signer, image, SBOM, sbom),
            attestation_layer(self.signer, image, PROVENANCE, origin),
            attestation_layer(self.signer, image, VULNERABILITIES, vulnerabilities),
        ]
        what = f"attaching the signature and attestations of {image.repository}@{image.digest[:19]}"
        with_retries(lambda: attach(self.registry, image, ".att", layers), what, self.policy)
        signed = signature_layer(self.signer, image)
        with_retries(lambda: attach(self.registry, image, ".sig", [signed]), what, self.policy)
        write_atomically(records / f"{image.name}.sbom.cdx.json", json.dumps(sbom, indent=1))
        write_json(records / f"{image.name}.provenance.json", origin)
        write_json(audit_record(records, image.name), vulnerabilities)
        log.info(
            "[%s] signed %s with its SBOM, provenance and audit", image.name, image.digest[:19]
        )

    def _sbom(self, image: PublishedImage, labels: dict[str, str]) -> str:
        inventory = image_inventory(self.client, image.image_id, self.cache.probes)
        return sbom_json(
            SbomInput(
                image=image,
                created=labels.get("org.opencontainers.image.created", "1970-01-01T00:00:00Z"),
                variant=self.matrix.variant,
                inventory=inventory,
                lock=lock_of(self.matrix, image.name),
            )
        )

    def _provenance(
        self, release: Release, image: PublishedImage, labels: dict[str, str]
    ) -> dict[str, object]:
        spec = self.matrix.image(image.name)
        record = load_record(self.cache.test_results, image.name)
        gated = self.tests_gated and (
            gate_refusal(
                self.cache.test_results,
                image.name,
                image.image_id,
                suite_sha256(self.matrix, image.name),
            )
            is None
        )
        rootfs = None
        if spec.bootstrapped:
            tarball = self.cache.rootfs / f"{rootfs_key(self.matrix, spec)}.tar"
            rootfs = RootFs(tarball, self.matrix.settings.debian.suite)
        return provenance(
            ProvenanceInput(
                image=image,
                release=release,
                labels=labels,
                matrix_file=self.matrix.path,
                lock_file=lock_of(self.matrix, image.name).path,
                variant=self.matrix.variant,
                engine_version=str(self.client.version().get("Version", "")),
                tests=record if record is not None and record.image_id == image.image_id else None,
                tests_gated=gated,
                rootfs=rootfs,
            )
        )


def audit_record(records: Path, image: str) -> Path:
    """Where a release's records keep the vulnerability audit an image was signed with (the
    catalogue reads its findings)."""
    return records / f"{image}.vulnerabilities.json"
