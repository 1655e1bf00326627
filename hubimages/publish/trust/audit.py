"""The vulnerability gate of a release: what is known to be vulnerable in each image, and whether
the release may go on.

Python distributions of the venvs are checked with pip-audit against the advisories PyPI serves
(one run for the union of every image's distributions); Debian packages against the variant's
security suite (publish.trust.debian_security). A finding with a fixed version blocks the
release unless build-matrix.yaml accepts it (`vulnerabilities.accepted`, with a reason and an
expiry date). A distribution that PyPI serves but whose advisories could not be read is
"unaudited", and blocks too unless the release allows it (`--allow-unaudited`, recorded).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hubimages.deps.lockfile import normalize
from hubimages.model.acceptances import Acceptance
from hubimages.publish.trust.debian_security import PendingUpdate

PIP_AUDIT = "pip-audit"
NOT_ON_PYPI = "not found on PyPI"


@dataclass(frozen=True)
class Finding:
    id: str  # the advisory (PYSEC-, GHSA-, CVE-) or debian:<source>=<fixed version>
    ecosystem: str  # pypi or debian
    package: str
    version: str  # installed
    fixed: tuple[str, ...]  # versions that fix it (none known: empty)
    aliases: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    def line(self) -> str:
        fix = f" -> {self.fixed[0]}" if self.fixed else " (no fix yet)"
        return f"{self.id} ({self.package} {self.version}{fix})"


@dataclass(frozen=True)
class PythonAudit:
    """pip-audit's answer for a set of distributions."""

    tool: str  # pip-audit and its version
    findings: dict[tuple[str, str], tuple[Finding, ...]]  # (name, version) -> findings
    skipped: frozenset[tuple[str, str]]  # not audited (pip-audit found no advisories record)


@dataclass(frozen=True)
class ImageAudit:
    image: str
    variant: str  # the matrix variant: its Debian security suite, its acceptances
    findings: tuple[Finding, ...]
    accepted: tuple[tuple[Finding, Acceptance], ...]
    blocking: tuple[Finding, ...]
    expired: tuple[tuple[Finding, Acceptance], ...]
    unaudited: tuple[str, ...]  # name==version that PyPI serves but pip-audit could not audit
    sources: dict[str, str] = field(default_factory=dict)
    audited_on: str = ""

    def predicate(self, gated: bool, allow_unaudited: bool) -> dict[str, Any]:
        """cosign's vulnerability attestation (vuln/v1); the result is ours."""
        return {
            "invocation": {"parameters": [], "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {
                "uri": "pkg:pypi/pip-audit",
                "version": self.sources.get("pypi", ""),
                "db": {"uri": self.sources.get("debian", ""), "version": self.audited_on},
                "result": {**self.record(), "gated": gated, "allowUnaudited": allow_unaudited},
            },
            "metadata": {"scanStartedOn": self.audited_on, "scanFinishedOn": self.audited_on},
        }

    def record(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "findings": [asdict(f) for f in self.findings],
            "accepted": [
                {
                    "id": f.id,
                    "package": f.package,
                    "reason": a.reason,
                    "expires": a.expires.isoformat(),
                }
                for f, a in self.accepted
            ],
            "blocking": [f.line() for f in self.blocking],
            "expired": [f"{f.id} (expired {a.expires})" for f, a in self.expired],
            "unaudited": list(self.unaudited),
            "sources": self.sources,
        }


def run_pip_audit(distributions: set[tuple[str, str]], cache: Path) -> PythonAudit:
    """pip-audit against PyPI's advisories for exact name==version pins (no resolution); a
    requirements file names a project once, so images that differ in a version take more runs."""
    runs: list[dict[str, str]] = []
    for name, version in sorted(distributions):
        free = next((r for r in runs if normalize(name) not in r), None)
        if free is None:
            runs.append(free := {})
        free[normalize(name)] = f"{name}=={version}"
    found: dict[tuple[str, str], tuple[Finding, ...]] = {}
    skipped: set[tuple[str, str]] = set()
    tool = ""
    for pins in runs:
        report, tool = _pip_audit(sorted(pins.values()), cache)
        part = parse_pip_audit(report, tool)
        found.update(part.findings)
        skipped |= part.skipped
    return PythonAudit(tool, found, frozenset(skipped))


def _pip_audit(pins: list[str], cache: Path) -> tuple[dict[str, Any], str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write("".join(f"{pin}\n" for pin in pins))
        requirements.flush()
        command = [sys.executable, "-m", "pip_audit", "-r", requirements.name, "--no-deps"]
        command += ["--disable-pip", "-s", "pypi", "-f", "json", "--progress-spinner", "off"]
        result = subprocess.run(
            [*command, "--cache-dir", str(cache)],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    version = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    try:
        return json.loads(result.stdout), version
    except ValueError:
        tail = " ".join(result.stderr.strip().splitlines()[-2:])
        raise RuntimeError(f"{PIP_AUDIT} failed: {tail}") from None


def parse_pip_audit(report: dict[str, Any], tool: str) -> PythonAudit:
    findings: dict[tuple[str, str], tuple[Finding, ...]] = {}
    skipped: set[tuple[str, str]] = set()
    for dependency in report.get("dependencies", []):
        name = dependency["name"]
        if "skip_reason" in dependency:
            version = dependency["skip_reason"].rsplit("(", 1)[-1].rstrip(")")
            skipped.add((name, version))
            continue
        key = (name, dependency["version"])
        findings[key] = tuple(
            Finding(
                id=v["id"],
                ecosystem="pypi",
                package=name,
                version=dependency["version"],
                fixed=tuple(v.get("fix_versions") or ()),
                aliases=tuple(v.get("aliases") or ()),
            )
            for v in dependency.get("vulns", [])
        )
    return PythonAudit(tool, findings, frozenset(skipped))


def debian_findings(updates: list[PendingUpdate]) -> list[Finding]:
    return [
        Finding(
            id=update.id,
            ecosystem="debian",
            package=", ".join(name for name, _ in update.packages),
            version=update.packages[0][1],
            fixed=(update.fixed,),
        )
        for update in updates
    ]


def judge(
    image: str,
    variant: str,
    findings: list[Finding],
    unaudited: list[str],
    accepted: tuple[Acceptance, ...],
    today: datetime.date,
    sources: dict[str, str],
) -> ImageAudit:
    """Which findings of the image in that variant are accepted (and until when), which block,
    which acceptances expired."""
    taken, blocking, expired = [], [], []
    for finding in findings:
        match = next((a for a in accepted if a.covers(image, finding.ids, variant)), None)
        if match is not None and match.valid_on(today):
            taken.append((finding, match))
        elif match is not None:
            expired.append((finding, match))
            blocking.append(finding)
        elif finding.fixed:
            blocking.append(finding)
    return ImageAudit(
        image=image,
        variant=variant,
        findings=tuple(findings),
        accepted=tuple(taken),
        blocking=tuple(blocking),
        expired=tuple(expired),
        unaudited=tuple(sorted(unaudited)),
        sources=sources,
        audited_on=today.isoformat(),
    )
