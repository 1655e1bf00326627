"""Commands of the site key and of verification: `invoke keys`, `invoke verify`."""

from __future__ import annotations

import sys
from pathlib import Path

from invoke.exceptions import Exit

from hubimages.cli.building import checked
from hubimages.cli.publishing import publisher
from hubimages.errors import HubImagesError
from hubimages.model.project import ALL_VARIANTS
from hubimages.publish.records import current_releases
from hubimages.publish.release import resolve_variants
from hubimages.publish.trust.checks import verdict_line, verify_references
from hubimages.publish.trust.keys import SiteKeys, generate, public_pem
from hubimages.publish.trust.verification import key_id


def keys() -> None:
    site = SiteKeys.default()
    made = generate(site)
    print(
        f"{'made' if made else 'kept'} the site signing key in {site.folder} "
        f"(key id {key_id(public_pem(site))[:16]}); hubs trust {site.public} through the "
        "profiles `invoke profiles` writes; keep the folder out of every repository and image"
    )


def verify(
    references: list[str],
    registry: str,
    release_tag: str | None,
    key: str,
    matrix_path: str | None,
    variants: list[str],
) -> None:
    """One line per image; exit 1 when any is not verified."""
    if key and not Path(key).is_file():
        raise HubImagesError(f"--key {key}: no such file; give the site's public key (cosign.pub)")
    pem = Path(key).read_text() if key else public_pem(SiteKeys.default())
    if not references:
        references = _release_references(registry, release_tag, matrix_path, variants)
    verdicts, seconds = verify_references(references, pem)
    for verdict in verdicts:
        print(verdict_line(verdict))
    refused = sum(not v.ok for v in verdicts)
    print(
        f"{len(verdicts) - refused} of {len(verdicts)} verified in {seconds:.1f}s", file=sys.stderr
    )
    if refused:
        raise Exit(code=1)


def _release_references(
    registry: str, tag: str | None, matrix_path: str | None, variants: list[str]
) -> list[str]:
    """The pinned images of each variant's newest recorded release (or of --release TAG in the
    registry, in every variant that has it); every variant unless --variant narrows them."""
    projects = checked(matrix_path, [], variants or [ALL_VARIANTS])
    names = [p.variant.name for p in projects]
    target = publisher(projects[0], registry, recorded=True)
    if tag:
        releases = resolve_variants(target, tag, names)
    else:
        current = current_releases(target.store.history(), target.matrix.default_variant.name)
        releases = {v: r for v, r in current.items() if v in names}
        if not releases:
            raise HubImagesError(
                f"no release of {', '.join(names)} recorded for {target.target}: give "
                "references, or --release TAG"
            )
    return [image.pinned for release in releases.values() for image in release.images]
