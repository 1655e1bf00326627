"""What every publishing step works with: one variant's matrix and records, the registry
target, the engine, the site key; and the check that a set of releases verifies."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from docker import DockerClient

from hubimages.builder.engine import connect
from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.publish.records import Release
from hubimages.publish.registry import RegistryClient, credentials
from hubimages.publish.retry import RetryPolicy
from hubimages.publish.store import ReleaseStore
from hubimages.publish.target import RegistryTarget
from hubimages.publish.trust.checks import require_verified, verify_references
from hubimages.publish.trust.keys import SiteKeys, public_pem
from hubimages.publish.trust.spawn import SpawnTrust

log = logging.getLogger(__name__)


class ReleaseError(HubImagesError):
    pass


@dataclass(frozen=True)
class Publisher:
    """Everything a publishing step needs: the matrix (as one variant sees it), the records,
    the target, the engine (connected only by the steps that use it: `history` and `profiles`
    work without one)."""

    matrix: Matrix
    cache: CacheLayout
    target: RegistryTarget
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    allow_dirty: bool = False  # --dirty: publish images built from uncommitted changes
    # False only for a registry of the tool's own that nobody pulls from (`invoke e2e`'s):
    # no test gate, no vulnerability audit, and hubs of its profiles do not ask for them
    require_tests: bool = True
    keys: SiteKeys = field(default_factory=SiteKeys.default)  # the site's signing key
    allow_unaudited: bool = False  # --allow-unaudited: PyPI's advisories may be unreadable

    @cached_property
    def client(self) -> DockerClient:
        return connect()

    @property
    def store(self) -> ReleaseStore:
        return ReleaseStore(self.cache.publish(self.target.slug))

    def registry(self) -> RegistryClient:
        return RegistryClient(self.target, credentials(self.target.host))

    def trust(self) -> SpawnTrust:
        return SpawnTrust(public_pem(self.keys), require_gates=self.require_tests)

    def verified(self, releases: Iterable[Release], what: str) -> None:
        """Every image of the releases (of any variant) verified in the registry, or an error
        saying `what` was not done."""
        pinned = [image.pinned for release in releases for image in release.images]
        verdicts, seconds = verify_references(pinned, self.trust().public_key, self.require_tests)
        require_verified(verdicts, what)
        log.info("verified %d images in %.1fs", len(verdicts), seconds)
