"""Verify a pinned image against the site's public key: the one verifier of `invoke verify`,
`invoke profiles` and the hub's pre-spawn hook.

Self-contained on purpose (the standard library and securesystemslib, the in-toto project's
signature library, whose DSSE and ECDSA verification it uses): `invoke profiles` copies this
file beside the DockerSpawner configuration, so a hub that does not have this tool installed
runs the same checks. What is checked, in the registry, for the digest of the reference:

- the manifest and its config blob hash to their digests (a changed byte is refused);
- a cosign simple-signing signature by the site key names that digest and repository, in the
  `sha256-<hex>.sig` tag (the tag schema cosign and skopeo use where a registry lacks the OCI
  referrers API; skopeo's policy.json `sigstoreSigned` checks the same signature);
- DSSE envelopes signed by the site key in the `sha256-<hex>.att` tag: in-toto statements about
  that digest with a CycloneDX SBOM, a SLSA provenance and the vulnerability gate's result;
- the gates recorded as passed (tests, no unaccepted fixable vulnerability), and no accepted
  vulnerability past its expiry date.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Signature, SSlibKey

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
    facts: dict[str, str] = field(default_factory=dict)

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
    public = serialization.load_pem_public_key(public_pem.encode())
    return SSlibKey.from_crypto(public, keyid=key_id(public_pem))


@dataclass
class RegistryReader:
    """GETs from an OCI distribution registry: anonymous, basic, or bearer-token auth."""

    host: str
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 15.0
    _authorization: str = field(default="", repr=False)

    def manifest(self, path: str, reference: str) -> bytes | None:
        return self._get(f"/v2/{path}/manifests/{reference}", ",".join(MANIFESTS), path)

    def blob(self, path: str, digest: str, what: str = "a blob") -> bytes:
        """A blob whose bytes must hash to its digest (else it was changed in the registry)."""
        data = self._get(f"/v2/{path}/blobs/{digest}", "", path)
        if data is None:
            raise RefusedError(f"{what} ({digest[:19]}) is missing from {self.host}/{path}")
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise RefusedError(
                f"{what} in the registry does not match its digest {digest[:19]}: it was changed"
            )
        return data

    def _get(self, path: str, accept: str, repository: str) -> bytes | None:
        for _ in range(2):
            headers = {"Accept": accept} if accept else {}
            if self._authorization:
                headers["Authorization"] = self._authorization
            request = urllib.request.Request(base_url(self.host) + path, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return bytes(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                if exc.code != 401 or self._authorization.startswith("Bearer"):
                    raise RefusedError(
                        f"registry {self.host} answered HTTP {exc.code} to {path}"
                    ) from None
                self._authorization = self._authorize(
                    exc.headers.get("WWW-Authenticate", ""), repository
                )
            except (urllib.error.URLError, OSError) as exc:
                raise RefusedError(
                    f"registry {self.host} unreachable: {getattr(exc, 'reason', exc)}"
                ) from None
        raise RefusedError(f"registry {self.host} refused our credentials for {path}")

    def _authorize(self, challenge: str, repository: str) -> str:
        basic = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not self.username:
                raise RefusedError(f"registry {self.host} needs credentials")
            return basic
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        query = urllib.parse.urlencode(
            {"service": fields.get("service", ""), "scope": f"repository:{repository}:pull"}
        )
        request = urllib.request.Request(  # noqa: S310 - the registry's own token service
            f"{fields.get('realm', '')}?{query}",
            headers={"Authorization": basic} if self.username else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                token: dict[str, str] = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RefusedError(f"registry {self.host}: its token service failed: {exc}") from None
        return "Bearer " + (token.get("token") or token.get("access_token", ""))


def verify(
    text: str,
    public_pem: str,
    reader: RegistryReader,
    require_gates: bool = True,
    today: datetime.date | None = None,
) -> Verdict:
    """The verdict on one reference; a resolved tag is verified at the digest it points to."""
    digest = ""
    try:
        reference = Reference.parse(text)
        digest = reference.digest or _resolve(reader, reference)
        key = site_key(public_pem)
        _check_image(reader, reference, digest)
        _check_signature(reader, reference, digest, key)
        statements = _attestations(reader, reference, digest, key)
        facts = _check_gates(statements, require_gates, today or datetime.date.today())
    except RefusedError as refusal:
        return Verdict(text, digest, str(refusal))
    return Verdict(text, digest, "", {"key": key.keyid[:16], **facts})


def _resolve(reader: RegistryReader, reference: Reference) -> str:
    body = reader.manifest(reference.path, reference.tag)
    if body is None:
        raise RefusedError(f"{reference.repository}:{reference.tag} does not exist")
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _check_image(reader: RegistryReader, reference: Reference, digest: str) -> None:
    body = reader.manifest(reference.path, digest)
    if body is None:
        raise RefusedError(f"{reference.repository}@{digest[:19]} does not exist in the registry")
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise RefusedError(f"the registry's manifest of {digest[:19]} does not match that digest")
    config = json.loads(body).get("config", {}).get("digest", "")
    if not config:
        raise RefusedError(f"{digest[:19]} is not a single image manifest (no config)")
    reader.blob(reference.path, config, "the image's config")


def _layers(reader: RegistryReader, reference: Reference, digest: str, suffix: str) -> list[Any]:
    body = reader.manifest(reference.path, digest.replace(":", "-", 1) + suffix)
    return [] if body is None else list(json.loads(body).get("layers", []))


def _check_signature(
    reader: RegistryReader, reference: Reference, digest: str, key: SSlibKey
) -> None:
    layers = [
        layer
        for layer in _layers(reader, reference, digest, ".sig")
        if layer.get("mediaType") == SIMPLE_SIGNING
    ]
    if not layers:
        raise RefusedError(f"unsigned: no signature of {digest[:19]} in the registry")
    for layer in layers:
        payload = reader.blob(reference.path, layer["digest"], "a signature's payload")
        signature = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION, "")
        try:
            raw = base64.b64decode(signature, validate=True)
            key.verify_signature(Signature(key.keyid, raw.hex()), payload)
        except (ValueError, UnverifiedSignatureError):
            continue
        critical = json.loads(payload).get("critical", {})
        if (
            critical.get("type") == SIGNATURE_TYPE
            and critical.get("image", {}).get("docker-manifest-digest") == digest
            and critical.get("identity", {}).get("docker-reference") == reference.repository
        ):
            return
    raise RefusedError(
        f"not signed by the site key {key.keyid[:16]}: {len(layers)} signature(s) of "
        f"{digest[:19]}, none by that key for {reference.repository}"
    )


def _attestations(
    reader: RegistryReader, reference: Reference, digest: str, key: SSlibKey
) -> dict[str, Any]:
    """The predicates of the signed statements about the digest, by predicate type."""
    found: dict[str, Any] = {}
    for layer in _layers(reader, reference, digest, ".att"):
        claimed = (layer.get("annotations") or {}).get("predicateType", "")
        if layer.get("mediaType") != DSSE or claimed not in PREDICATES:
            continue
        name = PREDICATES[claimed]
        body = reader.blob(reference.path, layer["digest"], f"the signed {name}")
        envelope = Envelope.from_dict(json.loads(body))
        try:
            envelope.verify([key], 1)
        except UnverifiedSignatureError:
            raise RefusedError(
                f"the {name}'s signature does not verify with the site key"
            ) from None
        statement = json.loads(envelope.payload)
        subjects = [s.get("digest", {}).get("sha256") for s in statement.get("subject", [])]
        if (
            envelope.payload_type != IN_TOTO
            or statement.get("_type") != STATEMENT
            or statement.get("predicateType") != claimed
            or digest.removeprefix("sha256:") not in subjects
        ):
            raise RefusedError(f"the signed {name} is not a statement about {digest[:19]}")
        found[claimed] = statement["predicate"]
    missing = [name for kind, name in PREDICATES.items() if kind not in found]
    if missing:
        raise RefusedError(
            f"no {' and no '.join(missing)} signed by the site key for {digest[:19]}"
        )
    return found


def tests_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """The container tests' result, a byproduct of the build the provenance describes."""
    for byproduct in provenance.get("runDetails", {}).get("byproducts", []):
        if byproduct.get("name") == TESTS_BYPRODUCT:
            return dict(byproduct.get("annotations", {}))
    return {}


def _check_gates(
    statements: dict[str, Any], require_gates: bool, today: datetime.date
) -> dict[str, str]:
    tests = tests_of(statements[PROVENANCE])
    audit = statements[VULNERABILITIES].get("scanner", {}).get("result", {})
    for accepted in audit.get("accepted", []):
        if datetime.date.fromisoformat(accepted["expires"]) < today:
            raise RefusedError(
                f"the acceptance of {accepted['id']} ({accepted['package']}) expired on "
                f"{accepted['expires']}: release a build with the fix, or renew it"
            )
    if require_gates and not tests.get("passed"):
        raise RefusedError("its provenance does not record passed container tests")
    if require_gates and audit.get("blocking"):
        raise RefusedError(
            f"its vulnerability audit has unaccepted fixes: {', '.join(audit['blocking'])}"
        )
    return {
        "components": str(len(statements[SBOM].get("components", []))),
        "commit": statements[PROVENANCE]
        .get("buildDefinition", {})
        .get("externalParameters", {})
        .get("source", {})
        .get("commit", "")[:12],
        "tests": f"{tests.get('tests', 0)} passed" if tests.get("passed") else "not gated",
        "findings": str(len(audit.get("findings", []))),
        "accepted": str(len(audit.get("accepted", []))),
    }
