"""Verify released images through the registry with the site's public key: what `invoke verify`
prints, and what `invoke release` and `invoke profiles` require before they pin a digest."""

from __future__ import annotations

import time
from collections.abc import Iterable

from hubimages.errors import HubImagesError
from hubimages.publish.registry import credentials
from hubimages.publish.trust.verification import (
    PROVENANCE,
    SBOM,
    VULNERABILITIES,
    RegistryReader,
    Verdict,
    tests_of,
    verify,
)


class NotVerifiedError(HubImagesError):
    pass


def verify_references(
    references: Iterable[str], public_key: str, require_gates: bool = True
) -> tuple[list[Verdict], float]:
    """Each reference's verdict (one registry reader per host), and the seconds it took."""
    started = time.monotonic()
    readers: dict[str, RegistryReader] = {}
    verdicts = []
    for text in references:
        host = text.strip().split("/", 1)[0]
        if host not in readers:
            found = credentials(host) or {}
            readers[host] = RegistryReader(
                host, found.get("username", ""), found.get("password", "")
            )
        verdicts.append(verify(text, public_key, readers[host], require_gates))
    return verdicts, time.monotonic() - started


def require_verified(verdicts: list[Verdict], what: str) -> None:
    refused = [v for v in verdicts if not v.ok]
    if refused:
        first = refused[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise NotVerifiedError(
            f"{what}: {first.reference.split('@')[0]} is not verified: {first.problem}{more}; "
            "`invoke verify -r REF` shows each"
        )


def verdict_line(verdict: Verdict) -> str:
    """One line per image: what was verified, or why not."""
    name = verdict.reference.split("@")[0]
    digest = verdict.digest[:19] or "?"
    if not verdict.ok:
        return f"FAIL  {name} {digest}: {verdict.problem}"
    sbom, origin = verdict.statements[SBOM], verdict.statements[PROVENANCE]
    source = origin.get("buildDefinition", {}).get("externalParameters", {}).get("source", {})
    tests = tests_of(origin)
    audit = verdict.statements[VULNERABILITIES].get("scanner", {}).get("result", {})
    return (
        f"ok    {name} {digest}: signed by {verdict.key[:16]}; SBOM "
        f"{len(sbom.get('components', []))} components; provenance "
        f"{source.get('commit', '')[:12] or '?'}, tests "
        f"{str(tests.get('tests', 0)) + ' passed' if tests.get('passed') else 'not gated'}; "
        f"{len(audit.get('findings', []))} findings, {len(audit.get('accepted', []))} accepted"
    )
