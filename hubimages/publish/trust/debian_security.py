"""Debian packages against the variant's security suite: a pending security update is a finding.

The suite's InRelease is checked with gpgv against Debian's archive keyring (the keys apt trusts),
its Packages index against the hash InRelease lists, so the gate's data is Debian's own. A package
whose security suite has a newer version (Debian's version order) misses a security fix: the
build is stale. Findings are one per source package and fixed version, with its binary packages.
"""

from __future__ import annotations

import hashlib
import logging
import lzma
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from debian.debian_support import Version

from hubimages.core.tools import require
from hubimages.errors import HubImagesError
from hubimages.model.spec import DebianSettings
from hubimages.publish.trust.contents import DebianPackage

log = logging.getLogger(__name__)

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")


@dataclass(frozen=True)
class SecurityIndex:
    suite: str  # e.g. bookworm-security
    date: str  # InRelease's Date: the state of the suite the gate saw
    versions: dict[tuple[str, str], str]  # (package, architecture) -> version


@dataclass(frozen=True)
class PendingUpdate:
    source: str
    fixed: str  # the security suite's version of the source
    packages: tuple[tuple[str, str], ...]  # binary package, installed version

    @property
    def id(self) -> str:
        return f"debian:{self.source}={self.fixed}"


def security_index(debian: DebianSettings, architecture: str, folder: Path) -> SecurityIndex:
    """The security suite's binary packages, verified; downloads cached by their hash."""
    suite = f"{debian.suite}-security"
    base = f"{debian.security_mirror}/dists/{suite}"
    release = _verified(_download(f"{base}/InRelease"), suite)
    entry = f"main/binary-{architecture}/Packages.xz"
    match = re.search(rf"^ ([0-9a-f]{{64}})\s+(\d+)\s+{re.escape(entry)}$", release, re.MULTILINE)
    if not match:
        raise HubImagesError(f"{suite}'s InRelease lists no {entry}: check settings.debian")
    cached = folder / f"{match[1]}.Packages.xz"
    if not cached.is_file():
        data = _download(f"{base}/{entry}")
        if hashlib.sha256(data).hexdigest() != match[1]:
            raise HubImagesError(f"{base}/{entry} does not match the hash its InRelease signs")
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    date = re.search(r"^Date: (.+)$", release, re.MULTILINE)
    return SecurityIndex(
        suite, date[1] if date else "", _packages(lzma.decompress(cached.read_bytes()).decode())
    )


def pending_updates(
    installed: tuple[DebianPackage, ...], index: SecurityIndex
) -> list[PendingUpdate]:
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for package in installed:
        newer = index.versions.get((package.name, package.architecture))
        if newer is not None and Version(newer) > Version(package.version):
            found.setdefault((package.source, newer), []).append((package.name, package.version))
    return [
        PendingUpdate(source, fixed, tuple(binaries))
        for (source, fixed), binaries in sorted(found.items())
    ]


def _packages(text: str) -> dict[tuple[str, str], str]:
    versions: dict[tuple[str, str], str] = {}
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^(Package|Version|Architecture): (.+)$", stanza, re.MULTILINE))
        if {"Package", "Version", "Architecture"} <= set(fields):
            key = (fields["Package"], fields["Architecture"])
            if key not in versions or Version(fields["Version"]) > Version(versions[key]):
                versions[key] = fields["Version"]
    return versions


def _verified(signed: bytes, suite: str) -> str:
    if not KEYRING.is_file():
        raise HubImagesError(f"{KEYRING} is missing: run ./setup.sh (debian-archive-keyring)")
    result = subprocess.run(
        [require("gpgv", "gpgv"), "--quiet", "--keyring", str(KEYRING), "--output", "-", "-"],
        input=signed,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        problem = " ".join(result.stderr.decode().split())[-200:]
        raise HubImagesError(
            f"{suite}'s InRelease is not signed by Debian's archive keys: {problem}"
        )
    return result.stdout.decode()


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - Debian's mirror
            return bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise HubImagesError(
            f"the vulnerability gate cannot read {url}: {getattr(exc, 'reason', exc)}"
        ) from None
