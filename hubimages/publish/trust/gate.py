"""Run the vulnerability gate over the images of a release, before anything is pushed."""

from __future__ import annotations

import datetime
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from docker import DockerClient

from hubimages.core.cache import CacheLayout
from hubimages.deps.index import PackageIndex
from hubimages.deps.lockfile import Lock, load_lock, lock_path, normalize, read_lock
from hubimages.errors import HubImagesError
from hubimages.model.spec import Matrix
from hubimages.publish.trust.audit import (
    ImageAudit,
    PythonAudit,
    debian_findings,
    judge,
    run_pip_audit,
)
from hubimages.publish.trust.contents import ImageInventory, image_inventory
from hubimages.publish.trust.debian_security import (
    SecurityIndex,
    pending_updates,
    security_index,
)

log = logging.getLogger(__name__)


class VulnerabilityGateError(HubImagesError):
    pass


def lock_of(matrix: Matrix, name: str) -> Lock:
    """The lock an image was installed from in the matrix's variant (a community environment:
    its platform's)."""
    spec = matrix.image(name)
    if spec.environment and spec.parent:
        return load_lock(matrix, spec.parent)
    path = lock_path(matrix, name)
    return read_lock(path, name) if path.is_file() else Lock(name, path, b"", ())


def audit_images(
    client: DockerClient,
    matrix: Matrix,
    cache: CacheLayout,
    images: dict[str, str],
    today: datetime.date | None = None,
) -> dict[str, ImageAudit]:
    """images: name -> image id, all of the matrix's variant. Every image's findings: its
    Python distributions against PyPI's advisories, its Debian packages against the variant's
    security suite; judged against the matrix's acceptances for that image and variant."""
    started = time.monotonic()
    inventories = {name: image_inventory(client, i, cache.probes) for name, i in images.items()}
    wanted = {dist for inventory in inventories.values() for dist in inventory.python}
    try:
        python = run_pip_audit(wanted, cache.root / "pip-audit")
    except RuntimeError as exc:
        raise VulnerabilityGateError(f"the vulnerability gate could not run: {exc}") from None
    index = PackageIndex(matrix.settings.index_url)
    _ask_index(index, {normalize(name) for name, _ in python.skipped})
    suites: dict[str, SecurityIndex] = {}
    audits = {}
    for name, inventory in inventories.items():
        arch = next((p.architecture for p in inventory.debian if p.architecture != "all"), "amd64")
        if arch not in suites:
            suites[arch] = security_index(
                matrix.settings.debian, arch, cache.root / "debian-security"
            )
        debian = suites[arch]
        findings = [f for d in inventory.python for f in python.findings.get(d, ())]
        findings += debian_findings(pending_updates(inventory.debian, debian))
        sources = {"pypi": python.tool, "debian": f"{debian.suite} ({debian.date})"}
        unaudited = _unaudited(inventory, python, lock_of(matrix, name), index)
        audits[name] = judge(
            name,
            matrix.variant.name,
            findings,
            unaudited,
            matrix.accepted,
            today or datetime.date.today(),
            sources,
        )
    log.info(
        "vulnerability audit of %d %s images in %.1fs: %s",
        len(audits),
        matrix.variant.name,
        time.monotonic() - started,
        "; ".join(
            f"{n} {len(a.findings)} found, {len(a.blocking)} blocking" for n, a in audits.items()
        ),
    )
    return audits


def _ask_index(index: PackageIndex, projects: set[str]) -> None:
    """What the index serves of each project, asked side by side (kept by the index)."""

    def ask(project: str) -> None:
        try:
            index.files(project)
        except HubImagesError:
            pass  # not on the index: nothing of it to audit

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ask, sorted(projects)))


def _unaudited(
    inventory: ImageInventory, python: PythonAudit, lock: Lock, index: PackageIndex
) -> list[str]:
    """Skipped distributions that the index serves (by a hash the lock allows): their
    advisories could not be read. Our own packages (not on the index) have none to read."""
    locked = {r.normalized: r for r in lock.requirements}
    missing = []
    for name, version in inventory.python:
        if (name, version) not in python.skipped and (
            normalize(name),
            version,
        ) not in python.skipped:
            continue
        entry = locked.get(normalize(name))
        try:
            served = entry is not None and any(
                f.sha256 in entry.hashes for f in index.files(normalize(name))
            )
        except HubImagesError:
            served = False
        if served:
            missing.append(f"{name}=={version}")
    return missing


def require_passing(audits: dict[str, ImageAudit], allow_unaudited: bool, variant: str) -> None:
    """One line naming what blocks (image and variant), and the way out; nothing is pushed."""
    blocked = [(n, a) for n, a in audits.items() if a.blocking]
    if blocked:
        shown = "; ".join(
            f"{n} ({variant}): {', '.join(f.line() for f in a.blocking[:3])}" for n, a in blocked
        )
        raise VulnerabilityGateError(
            f"known vulnerabilities with fixes block the release ({shown}): rebuild with the "
            "fixes, or accept them in build-matrix.yaml (vulnerabilities.accepted: id, reason, "
            "expires; variants to narrow it); nothing was pushed"
        )
    unaudited = sorted({u for a in audits.values() for u in a.unaudited})
    if unaudited and not allow_unaudited:
        raise VulnerabilityGateError(
            f"pip-audit could not read PyPI's advisories for {len(unaudited)} distributions "
            f"of the {variant} images that PyPI serves (e.g. {', '.join(unaudited[:3])}): "
            "rerun when PyPI's JSON API answers, or pass --allow-unaudited to release them "
            "unaudited (recorded); nothing was pushed"
        )
