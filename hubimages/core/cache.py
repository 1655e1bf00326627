"""The layout of `.cache/`: every generated file of the project has its place here, and only here.

One object, made once by the command line and handed to every step that reads or writes the
cache, so no module spells a folder name of its own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "HUBIMAGES_CACHE"


@dataclass(frozen=True)
class CacheLayout:
    root: Path
    # The variant of the matrix (build-matrix.yaml) whose records this layout reads and
    # writes: test results, build times, benchmarks, environments' locks. Downloads, rootfs
    # tarballs and probes are shared: their names already say what they hold.
    variant: str = ""

    @classmethod
    def for_project(cls, project_root: Path, variant: str = "") -> CacheLayout:
        """`.cache/` beside build-matrix.yaml, or wherever $HUBIMAGES_CACHE points."""
        return cls(Path(os.environ.get(CACHE_ENV) or project_root / ".cache"), variant)

    def for_variant(self, variant: str) -> CacheLayout:
        return CacheLayout(self.root, variant)

    def _of_variant(self, name: str) -> Path:
        return self.root / "variants" / self.variant / name if self.variant else self.root / name

    # -- dependencies ------------------------------------------------------------------------
    @property
    def wheels(self) -> Path:
        """Locked wheels downloaded from the index, verified against their hashes."""
        return self.root / "wheels"

    @property
    def local_wheels(self) -> Path:
        """Wheels built on the host from pinned sdists (local-wheels.yaml)."""
        return self.root / "local-wheels"

    def lock_find_links(self, image: str) -> Path:
        """Exactly the local wheels one image's lock may see while it is resolved."""
        return self.local_wheels / "for-lock" / image

    @property
    def sdists(self) -> Path:
        return self.root / "sdists"

    @property
    def npm_tarballs(self) -> Path:
        """Pinned npm tarballs whose ES modules local wheels inline (deps.esm)."""
        return self.root / "npm"

    # -- building ----------------------------------------------------------------------------
    @property
    def rootfs(self) -> Path:
        """Bootstrapped Debian root filesystems, one tarball per recipe key."""
        return self.root / "rootfs"

    @property
    def probes(self) -> Path:
        """What each image id holds (Python, packages), asked once per id."""
        return self.root / "probes"

    @property
    def repositories(self) -> Path:
        """Bare mirrors of git repositories (community environments, workflows), one per URL."""
        return self.root / "repositories"

    def environment(self, name: str) -> Path:
        """What a community environment's build resolved: its lock, its host-built wheels."""
        return self._of_variant("environments") / name

    @property
    def build_times(self) -> Path:
        return self._of_variant("build-times.json")

    # -- testing -----------------------------------------------------------------------------
    @property
    def test_results(self) -> Path:
        return self._of_variant("test-results")

    def test_output(self, suite: str) -> Path:
        """What a test session printed while others ran beside it (shown when it ends)."""
        return self._of_variant("test-output") / f"{slug(suite)}.log"

    @property
    def conformance(self) -> Path:
        """docker-stacks' suite run: its venv (per requirements) and the last reports."""
        return self.root / "conformance"

    @property
    def docker_cli(self) -> Path:
        """A folder whose `docker` is the CLI testinfra runs (one for every test run)."""
        return self.root / "docker-cli"

    def service_lock(self, name: str) -> Path:
        """Held while a test run builds the test service image `name` (tests/services/)."""
        return self.root / "test-services" / f"{name}.lock"

    @property
    def workflow_repositories(self) -> Path:
        """Each workflow's repository as sessions pull it (bare, branch main), served by the
        hub's git service (docs/workflows.md)."""
        return self.root / "workflows" / "git"

    @property
    def workflow_runs(self) -> Path:
        """Headless runs of workflows: a record and the executed notebooks per image id."""
        return self.root / "workflows" / "runs"

    # -- publishing --------------------------------------------------------------------------
    @property
    def publish_root(self) -> Path:
        return self.root / "publish"

    def publish(self, target_slug: str) -> Path:
        """Everything published to one registry target (see publish.store)."""
        return self.publish_root / target_slug

    def registry(self, port: int) -> Path:
        """Storage, config and log of the local registry on that port."""
        return self.root / "registry" / str(port)

    # -- local services ------------------------------------------------------------------------
    @property
    def rucio_venv(self) -> Path:
        """The Rucio server's venv (services/rucio/requirements.lock)."""
        return self.root / "rucio" / "venv"

    def rucio_client_files(self, name: str) -> Path:
        """What sessions of the local Rucio `name` mount: its CA, a throwaway X.509 file. Kept
        (and rewritten in place) while sessions use it, across restarts."""
        return self.root / "rucio" / "clients" / name

    @property
    def rucio_runs(self) -> Path:
        """One record per running local Rucio deployment, to stop it or sweep it."""
        return self.root / "rucio" / "runs"

    @property
    def site_ca(self) -> Path:
        """The local services' certificate authority (key mode 600, folder mode 700)."""
        return self.root / "site-ca"

    @property
    def idp(self) -> Path:
        """The identity provider of `invoke idp`: users, signing key, record, log, node_modules."""
        return self.root / "idp"

    @property
    def hub(self) -> Path:
        """The local JupyterHub: config, database, log, password, its proxy's node_modules."""
        return self.root / "hub"

    @property
    def e2e(self) -> Path:
        """Screenshots and logs of `invoke e2e`, and the registry it releases to."""
        return self.root / "e2e"

    # -- benchmarks --------------------------------------------------------------------------
    @property
    def bench(self) -> Path:
        return self._of_variant("bench.json")

    def bench_venv(self, image: str) -> Path:
        return self._of_variant("bench-venvs") / image


def slug(text: str) -> str:
    """A folder name for free text such as a registry target."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)
