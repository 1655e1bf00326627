"""One variant's release up to the registry, in two halves: `stage` checks everything that
can be checked before the first byte is pushed (tested images, the tag, immutable tags in the
registry, the site key, the vulnerability gate), `push_staged` pushes and attaches the signed
SBOMs, provenance and audits. A release of several variants stages every variant before it
pushes any, so a gate that refuses one variant pushes nothing in any."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from securesystemslib.signer import Signer

from hubimages.builder.tagging.release_tag import ReleaseTag
from hubimages.core.clock import utc_timestamp
from hubimages.publish.gate import built_image, release_choice, tested_image
from hubimages.publish.publisher import Publisher, ReleaseError
from hubimages.publish.push import Pusher, PushPlan, plan_pushes
from hubimages.publish.records import Release
from hubimages.publish.registry import RegistryClient
from hubimages.publish.trust.attest import Attester
from hubimages.publish.trust.audit import ImageAudit
from hubimages.publish.trust.gate import audit_images, require_passing
from hubimages.publish.trust.keys import load_signer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StagedRelease:
    """A variant's images that passed every gate, and what pushing them needs."""

    publisher: Publisher
    tag: str
    revision: str
    plans: list[PushPlan]
    registry: RegistryClient
    signer: Signer
    audits: dict[str, ImageAudit]  # empty when the release is not gated (`invoke e2e`'s)


def stage(publisher: Publisher, names: list[str]) -> StagedRelease:
    images = [
        tested_image(publisher.client, publisher.matrix, publisher.cache, name)
        if publisher.require_tests
        else built_image(publisher.client, publisher.matrix, name)
        for name in names
    ]
    choice = release_choice(images)
    tag = ReleaseTag.parse(choice.tag)
    if tag is not None and tag.dirty and not publisher.allow_dirty:
        raise ReleaseError(
            f"the images were built from uncommitted changes (tag "
            f"{choice.tag}): rebuild from a clean tree, or pass --dirty"
        )
    registry = publisher.registry()
    plans = plan_pushes(publisher.matrix, images, registry, choice.tag, publisher.policy)
    signer = load_signer(publisher.keys)  # no key: nothing is pushed
    audits = {}
    if publisher.require_tests:  # the vulnerability gate, against this variant's suite
        audits = audit_images(
            publisher.client,
            publisher.matrix,
            publisher.cache,
            {i.name: i.image_id for i in images},
        )
        require_passing(audits, publisher.allow_unaudited, publisher.matrix.variant.name)
    return StagedRelease(publisher, choice.tag, choice.revision, plans, registry, signer, audits)


def push_staged(staged: StagedRelease) -> Release:
    """Push, then sign and attach each image's SBOM, provenance and audit."""
    publisher = staged.publisher
    pusher = Pusher(publisher.client, staged.registry, publisher.store, publisher.policy)
    published = pusher.push_all(staged.plans, staged.tag)
    release = Release(
        tag=staged.tag,
        registry=str(publisher.target),
        created=utc_timestamp(),
        revision=staged.revision,
        images=tuple(published),
        variant=publisher.matrix.variant.name,
    )
    attester = Attester(
        publisher.client,
        publisher.matrix,
        publisher.cache,
        staged.registry,
        staged.signer,
        publisher.policy,
        tests_gated=publisher.require_tests,
        allow_unaudited=publisher.allow_unaudited,
    )
    seconds = attester.attest_all(release, staged.audits, publisher.store.release_dir(release.tag))
    log.info(
        "[%s] signed %d images with SBOMs, provenance and audits in %.1fs",
        release.variant,
        len(published),
        seconds,
    )
    return release
