"""The supply-chain pieces without a registry: the site key's format, SBOMs against CycloneDX's
schema, DSSE envelopes against securesystemslib's verifier, the vulnerability gate's decisions,
and the verifier that hubs load staying self-contained."""

from __future__ import annotations

import ast
import base64
import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError

from hubimages.deps.lockfile import Lock, LockedRequirement
from hubimages.errors import HubImagesError, MatrixError
from hubimages.model.acceptances import Acceptance, parse_acceptances
from hubimages.model.spec import Variant
from hubimages.publish.records import PublishedImage
from hubimages.publish.trust import verification as verifier
from hubimages.publish.trust.attach import envelope, statement
from hubimages.publish.trust.audit import Finding, judge, parse_pip_audit
from hubimages.publish.trust.contents import DebianPackage, ImageInventory, LabExtension
from hubimages.publish.trust.debian_security import SecurityIndex, _packages, pending_updates
from hubimages.publish.trust.gate import VulnerabilityGateError, require_passing
from hubimages.publish.trust.keys import (
    PEM_TYPE,
    SiteKeys,
    decrypt_private_key,
    generate,
    load_signer,
)
from hubimages.publish.trust.sbom import SbomInput, sbom_json

from .conftest import write_matrix

IMAGE = PublishedImage(
    "base",
    "127.0.0.1:5000/ska/base",
    "2026-12-03-abc1234",
    "sha256:" + "d" * 64,
    "sha256:" + "e" * 64,
)
TODAY = datetime.date(2026, 12, 3)
VARIANT = Variant("bookworm", "bookworm", "3.11", "2.36")  # a variant that is not the default


@pytest.fixture
def keys(tmp_path: Path) -> SiteKeys:
    site = SiteKeys(tmp_path / "keys")
    assert generate(site) is True
    return site


def test_the_site_key_is_cosigns_encrypted_format_and_private(keys: SiteKeys) -> None:
    assert keys.folder.stat().st_mode & 0o777 == 0o700
    assert keys.private.stat().st_mode & 0o777 == 0o600
    assert keys.passphrase.stat().st_mode & 0o777 == 0o600
    text = keys.private.read_text()
    assert text.startswith(f"-----BEGIN {PEM_TYPE}-----\n")
    body = json.loads(base64.b64decode("".join(text.splitlines()[1:-1])))
    assert body["kdf"]["name"] == "scrypt" and body["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert (
        body["cipher"]["name"] == "nacl/secretbox"
        and len(base64.b64decode(body["cipher"]["nonce"])) == 24
    )
    der = decrypt_private_key(keys.private.read_bytes(), keys.passphrase.read_bytes())
    private = serialization.load_der_private_key(der, password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public.decode() == keys.public.read_text()
    with pytest.raises(HubImagesError, match="does not open with its passphrase"):
        decrypt_private_key(keys.private.read_bytes(), b"wrong")
    assert generate(keys) is False  # kept, never replaced


def test_a_key_others_may_read_or_a_missing_key_is_refused(keys: SiteKeys, tmp_path: Path) -> None:
    keys.private.chmod(0o640)
    with pytest.raises(HubImagesError, match=r"may be read by others: chmod 600 .*cosign.key"):
        load_signer(keys)
    with pytest.raises(HubImagesError, match=r"no site signing key in .*: run `invoke keys`"):
        load_signer(SiteKeys(tmp_path / "none"))
    keys.private.chmod(0o600)
    keys.public.unlink()
    with pytest.raises(HubImagesError, match=r"exists without cosign\.pub"):
        generate(keys)


def test_dsse_envelopes_verify_with_securesystemslib_and_not_with_another_key(
    keys: SiteKeys, tmp_path: Path
) -> None:
    signer = load_signer(keys)
    sealed = Envelope.from_dict(json.loads(envelope(signer, statement(IMAGE, verifier.SBOM, {}))))
    key = verifier.site_key(keys.public.read_text())
    assert key.keyid == verifier.key_id(keys.public.read_text())
    assert list(sealed.verify([key], 1)) == [key.keyid]
    assert json.loads(sealed.payload)["subject"][0]["digest"] == {"sha256": "d" * 64}
    other = SiteKeys(tmp_path / "other")
    generate(other)
    with pytest.raises(VerificationError):
        sealed.verify([verifier.site_key(other.public.read_text())], 1)


def inventory() -> ImageInventory:
    return ImageInventory(
        debian=(
            DebianPackage("libssl3", "3.0.15-1~deb12u1", "amd64", "openssl", "3.0.15-1~deb12u1"),
            DebianPackage("tzdata", "2025b-0+deb12u1", "all", "tzdata", "2025b-0+deb12u1"),
        ),
        python=(("Jinja2", "3.1.6"), ("notebook", "7.6.5")),
        extensions=(
            LabExtension(
                "notebook",
                "@jupyter-notebook/lab-extension",
                "7.6.5",
                "BSD-3-Clause",
                (("@lumino/widgets", "2.7.1", "BSD-3-Clause"), ("react", "18.3.1", "MIT")),
            ),
        ),
    )


def test_the_sbom_is_valid_cyclonedx_with_purls_sources_and_lock_hashes() -> None:
    lock = Lock(
        "base",
        Path("images/base/requirements.lock"),
        b"",
        (LockedRequirement("jinja2", "3.1.6", frozenset({"a" * 64, "b" * 64})),),
    )
    text = sbom_json(SbomInput(IMAGE, "2026-12-03T10:00:00Z", VARIANT, inventory(), lock))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    assert {p["name"]: p["value"] for p in bom["metadata"]["properties"]} == {
        "org.skahub:variant": "bookworm",
        "org.skahub:debian:suite": "bookworm",
        "org.skahub:python": "3.11",
    }
    assert bom["metadata"]["component"]["purl"] == (
        f"pkg:oci/base@sha256:{'d' * 64}?repository_url=127.0.0.1:5000/ska/base&tag={IMAGE.tag}"
    )
    parts = {c["name"]: c for c in bom["components"]}
    assert (
        parts["libssl3"]["purl"]
        == "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=bookworm"
    )
    assert parts["libssl3"]["pedigree"]["ancestors"][0]["purl"].startswith(
        "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=source"
    )
    assert parts["Jinja2"]["purl"] == "pkg:pypi/jinja2@3.1.6"
    assert sorted(h["content"] for h in parts["Jinja2"]["hashes"]) == ["a" * 64, "b" * 64]
    assert "hashes" not in parts["notebook"]  # not in the lock: no hash to claim
    [extension] = parts["notebook"]["components"]
    assert extension["purl"] == "pkg:npm/%40jupyter-notebook/lab-extension@7.6.5"
    assert [c["purl"] for c in extension["components"]] == [
        "pkg:npm/%40lumino/widgets@2.7.1",
        "pkg:npm/react@18.3.1",
    ]
    again = sbom_json(SbomInput(IMAGE, "2026-12-03T10:00:00Z", VARIANT, inventory(), lock))
    assert json.loads(again)["serialNumber"] == bom["serialNumber"]


PIP_AUDIT_REPORT = {
    "dependencies": [
        {
            "name": "tornado",
            "version": "6.4",
            "vulns": [
                {"id": "PYSEC-2024-1", "fix_versions": ["6.4.1"], "aliases": ["CVE-2024-1"]},
                {"id": "GHSA-aaaa-bbbb-cccc", "fix_versions": [], "aliases": []},
            ],
        },
        {"name": "six", "version": "1.16.0", "vulns": []},
        {
            "name": "ours",
            "skip_reason": "Dependency not found on PyPI and could not be audited: ours (1.0)",
        },
    ],
    "fixes": [],
}


def test_pip_audits_report_and_the_gates_decisions() -> None:
    python = parse_pip_audit(PIP_AUDIT_REPORT, "pip-audit 2.10.1")
    assert python.skipped == {("ours", "1.0")}
    fixable, unfixed = python.findings[("tornado", "6.4")]
    assert fixable.fixed == ("6.4.1",) and unfixed.fixed == ()
    accepted = (
        Acceptance("CVE-2024-1", "not reachable", TODAY, ("base",)),  # by alias, today included
    )
    audit = judge("base", "bookworm", [fixable, unfixed], [], accepted, TODAY, {})
    assert audit.blocking == () and [a.expires for _, a in audit.accepted] == [TODAY]
    require_passing({"base": audit}, allow_unaudited=False, variant="bookworm")
    later = judge(
        "base", "bookworm", [fixable, unfixed], [], accepted, TODAY + datetime.timedelta(days=1), {}
    )
    assert later.blocking == (fixable,) and len(later.expired) == 1
    other_image = judge("ml", "bookworm", [fixable], [], accepted, TODAY, {})
    with pytest.raises(VulnerabilityGateError) as refused:
        require_passing({"ml": other_image}, allow_unaudited=False, variant="bookworm")
    message = str(refused.value)
    assert "ml (bookworm): PYSEC-2024-1 (tornado 6.4 -> 6.4.1)" in message
    assert "vulnerabilities.accepted" in message and "nothing was pushed" in message
    blind = judge("base", "bookworm", [], ["six==1.16.0"], (), TODAY, {})
    with pytest.raises(VulnerabilityGateError, match="could not read PyPI's advisories for 1 "):
        require_passing({"base": blind}, allow_unaudited=False, variant="bookworm")
    require_passing({"base": blind}, allow_unaudited=True, variant="bookworm")
    assert blind.predicate(True, True)["scanner"]["result"]["unaudited"] == ["six==1.16.0"]
    assert blind.record()["variant"] == "bookworm"
    # An acceptance narrowed to one variant covers that variant's finding only.
    narrowed = (Acceptance("CVE-2024-1", "r", TODAY, (), ("trixie",)),)
    assert judge("base", "trixie", [fixable], [], narrowed, TODAY, {}).blocking == ()
    assert judge("base", "bookworm", [fixable], [], narrowed, TODAY, {}).blocking == (fixable,)


def test_pending_debian_security_updates_in_debians_version_order() -> None:
    index_text = "\n\n".join(
        [
            "Package: libssl3\nVersion: 3.0.17-1~deb12u3\nArchitecture: amd64\nSource: openssl",
            "Package: openssl\nVersion: 3.0.17-1~deb12u3\nArchitecture: amd64",
            "Package: tzdata\nVersion: 2025b-0+deb12u1\nArchitecture: all",
            "Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64",
        ]
    )
    index = SecurityIndex("bookworm-security", "today", _packages(index_text))
    installed = (
        DebianPackage("libssl3", "3.0.15-1~deb12u1", "amd64", "openssl", "3.0.15-1~deb12u1"),
        DebianPackage("openssl", "3.0.15-1~deb12u1", "amd64", "openssl", "3.0.15-1~deb12u1"),
        DebianPackage("tzdata", "2025b-0+deb12u1", "all", "tzdata", "2025b-0+deb12u1"),
        DebianPackage("zlib1g", "1:1.2.13.dfsg-1+b1", "amd64", "zlib", "1:1.2.13.dfsg-1"),
    )
    [update] = pending_updates(installed, index)  # +b1 is newer than the security version
    assert update.id == "debian:openssl=3.0.17-1~deb12u3"
    assert update.packages == (("libssl3", "3.0.15-1~deb12u1"), ("openssl", "3.0.15-1~deb12u1"))
    finding = Finding(update.id, "debian", "libssl3, openssl", "3.0.15-1~deb12u1", (update.fixed,))
    assert judge("base", "bookworm", [finding], [], (), TODAY, {}).blocking == (finding,)


def test_acceptances_in_the_matrix_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "build-matrix.yaml"
    entry = {"id": "GHSA-x", "reason": "r", "expires": datetime.date(2026, 12, 31)}
    variants = {"trixie", "bookworm"}
    [parsed] = parse_acceptances(
        path, {"accepted": [{**entry, "images": ["ml"]}]}, {"ml", "base"}, variants
    )
    assert parsed.covers("ml", ("GHSA-x",), "trixie") and parsed.covers(
        "ml", ("GHSA-x",), "bookworm"
    )
    assert not parsed.covers("base", ("GHSA-x",), "trixie")
    [one] = parse_acceptances(
        path, {"accepted": [{**entry, "variants": ["bookworm"]}]}, {"ml", "base"}, variants
    )
    assert one.covers("base", ("GHSA-x",), "bookworm")
    assert not one.covers("base", ("GHSA-x",), "trixie")
    bad = [
        ({"accepted": [{**entry, "expires": "next year"}]}, "is not a date like 2026-12-31"),
        ({"accepted": [{**entry, "until": "x"}]}, "key 'vulnerabilities.accepted[0].until'"),
        ({"accepted": [{"id": "GHSA-x", "expires": "2026-12-31"}]}, "reason'.*missing"),
        ({"accepted": [{**entry, "images": ["nope"]}]}, "must list images of the matrix"),
        ({"accepted": [{**entry, "variants": ["sid"]}]}, "must list variants of the matrix"),
        ({"acepted": []}, "must be a mapping with the key accepted"),
    ]
    for raw, message in bad:
        with pytest.raises(MatrixError, match=message.replace("[", r"\[").replace("]", r"\]")):
            parse_acceptances(path, raw, {"ml", "base"}, {"trixie", "bookworm"})


def test_references_the_verifier_reads() -> None:
    pinned = verifier.Reference.parse(IMAGE.pinned)
    assert (pinned.host, pinned.path, pinned.tag) == ("127.0.0.1:5000", "ska/base", IMAGE.tag)
    assert verifier.Reference.parse("registry.example.org/ska/base:latest").digest == ""
    for bad in ("base:latest", "127.0.0.1:5000/ska/base", "not a reference"):
        with pytest.raises(verifier.RefusedError, match="is not HOST"):
            verifier.Reference.parse(bad)
    assert verifier.base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert verifier.base_url("docker.io") == "https://registry-1.docker.io"


def test_the_verifier_hubs_load_needs_nothing_of_this_tool() -> None:
    """invoke profiles copies its package beside the hub's configuration: the standard library,
    securesystemslib, cryptography and its own modules only."""
    found = set()
    for module in Path(verifier.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add((node.module or "").split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
    assert found - set(sys.stdlib_module_names) == {"securesystemslib", "cryptography"}


def test_invoke_check_lists_acceptances_and_marks_expired_ones(matrix_data, tmp_path) -> None:
    matrix_data["vulnerabilities"] = {
        "accepted": [
            {"id": "GHSA-old", "reason": "gone soon", "expires": "2000-01-01"},
            {"id": "GHSA-new", "reason": "not reachable", "expires": "2999-12-31", "images": ["a"]},
        ]
    }
    path = write_matrix(tmp_path, matrix_data)
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "check", f"--matrix={path}"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "accepted GHSA-old EXPIRED on 2000-01-01 (every image): gone soon" in result.stdout
    assert "accepted GHSA-new until 2999-12-31 (a): not reachable" in result.stdout
