"""The formats the verifier reads: media types, predicate types, references, key ids."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from securesystemslib.signer import SSlibKey

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
SIGNATURE_TYPE = "cosign container image signature"
DSSE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO = "application/vnd.in-toto+json"
STATEMENT = "https://in-toto.io/Statement/v1"
SBOM = "https://cyclonedx.org/bom"
PROVENANCE = "https://slsa.dev/provenance/v1"
VULNERABILITIES = "https://cosign.sigstore.dev/attestation/vuln/v1"
TESTS_BYPRODUCT = "container-tests.junit.xml"  # the provenance's record of the tests that gated
PREDICATES = {SBOM: "SBOM", PROVENANCE: "provenance", VULNERABILITIES: "vulnerability audit"}
MANIFESTS = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
API_HOSTS = {"docker.io": "registry-1.docker.io", "index.docker.io": "registry-1.docker.io"}
REFERENCE = re.compile(
    r"^(?P<host>[^/]+)/(?P<path>[a-z0-9][a-z0-9._/-]*?)(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


class RefusedError(Exception):
    """Why an image is not trusted, as one line."""


@dataclass(frozen=True)
class Reference:
    host: str
    path: str
    tag: str
    digest: str

    @property
    def repository(self) -> str:
        return f"{self.host}/{self.path}"

    @classmethod
    def parse(cls, text: str) -> Reference:
        match = REFERENCE.match(text.strip())
        if not match or not (match["tag"] or match["digest"]) or "." not in match["host"] + ":":
            raise RefusedError(f"{text!r} is not HOST[:PORT]/PATH[:TAG][@sha256:DIGEST]")
        return cls(match["host"], match["path"], match["tag"] or "", match["digest"] or "")


@dataclass(frozen=True)
class Verdict:
    reference: str
    digest: str = ""
    problem: str = ""  # empty when trusted
    key: str = ""  # the id of the key that signed it
    statements: dict[str, Any] = field(default_factory=dict)  # predicates by predicate type

    @property
    def ok(self) -> bool:
        return not self.problem


def base_url(host: str) -> str:
    """Like the engine: plain HTTP for loopback registries, HTTPS for every other."""
    name = host.strip("[]") if host.startswith("[") else host.rsplit(":", 1)[0]
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    return f"{'http' if loopback else 'https'}://{API_HOSTS.get(host, host)}"


def key_id(public_pem: str) -> str:
    """sha256 of the key's DER SubjectPublicKeyInfo: the key id cosign's DSSE verifier derives."""
    public = serialization.load_pem_public_key(public_pem.encode())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def site_key(public_pem: str) -> SSlibKey:
    try:
        public = serialization.load_pem_public_key(public_pem.encode())
    except ValueError:
        raise RefusedError("the site key is not a PEM public key") from None
    return SSlibKey.from_crypto(public, keyid=key_id(public_pem))


def tests_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """The container tests' result, a byproduct of the build the provenance describes."""
    for byproduct in provenance.get("runDetails", {}).get("byproducts", []):
        if byproduct.get("name") == TESTS_BYPRODUCT:
            return dict(byproduct.get("annotations", {}))
    return {}
