"""What trust adds to a release of every image: the vulnerability audit, then SBOMs, provenance
and signatures attached in a registry, then `invoke verify` of every image; and the findings."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from docker import DockerClient

from hubimages.bench import BENCH_NAMESPACE
from hubimages.core.cache import CacheLayout
from hubimages.core.clock import utc_timestamp
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order
from hubimages.model.spec import Matrix
from hubimages.publish.push import push_tag
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.registry import RegistryClient
from hubimages.publish.retry import RetryPolicy
from hubimages.publish.target import RegistryTarget
from hubimages.publish.trust.attest import Attester
from hubimages.publish.trust.audit import ImageAudit
from hubimages.publish.trust.checks import verify_references
from hubimages.publish.trust.gate import audit_images
from hubimages.publish.trust.keys import SiteKeys, generate, load_signer, public_pem
from hubimages.services.localregistry import LocalRegistry

log = logging.getLogger(__name__)


def trust_timings(client: DockerClient, matrix: Matrix, cache: CacheLayout) -> dict[str, object]:
    names = build_order(matrix)
    ids = {name: str(client.images.get(matrix.local_ref(name)).id) for name in names}
    numbers: dict[str, object] = {}
    audits: dict[str, ImageAudit] = {}
    started = time.monotonic()
    try:
        audits = audit_images(client, matrix, cache, ids)
        numbers["audit_s"] = round(time.monotonic() - started, 1)
        for name, audit in audits.items():
            numbers[f"{name}_findings"] = len(audit.findings)
            numbers[f"{name}_findings_blocking"] = len(audit.blocking)
            numbers[f"{name}_unaudited"] = len(audit.unaudited)
    except HubImagesError as exc:  # the audit needs PyPI and Debian's mirrors
        log.warning("no audit numbers: %s", exc)
    with tempfile.TemporaryDirectory(prefix="hubimages-bench-trust-") as root:
        numbers.update(_attest_and_verify(client, matrix, cache, Path(root), ids, audits))
    return numbers


def _attest_and_verify(
    client: DockerClient,
    matrix: Matrix,
    cache: CacheLayout,
    root: Path,
    ids: dict[str, str],
    audits: dict[str, ImageAudit],
) -> dict[str, object]:
    keys = SiteKeys(root / "keys")
    generate(keys)
    registry = LocalRegistry(root / "registry")
    registry.start()
    target = RegistryTarget(registry.host, BENCH_NAMESPACE)
    try:
        images = tuple(
            PublishedImage(
                name, target.repository(name), "bench", _push(client, target, name, i), i
            )
            for name, i in ids.items()
        )
        release = Release("bench", str(target), utc_timestamp(), "", images)
        attester = Attester(
            client,
            matrix,
            cache,
            RegistryClient(target),
            load_signer(keys),
            RetryPolicy(),
            tests_gated=True,
        )
        attest_s = attester.attest_all(release, audits, root / "records")
        verdicts, verify_s = verify_references(
            (i.pinned for i in images), public_pem(keys), require_gates=False
        )
    finally:
        registry.stop()
    return {
        "sign_sbom_provenance_all_images_s": round(attest_s, 1),
        "verify_all_images_s": round(verify_s, 2),
        "verified_images": sum(v.ok for v in verdicts),
    }


def _push(client: DockerClient, target: RegistryTarget, name: str, image_id: str) -> str:
    return push_tag(client, image_id, target.repository(name), "bench", None)
