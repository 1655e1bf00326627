"""The checks, in order, of one reference (see the package's docstring)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from typing import Any

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Signature, SSlibKey

from .formats import (
    DSSE,
    IN_TOTO,
    PREDICATES,
    PROVENANCE,
    SIGNATURE_ANNOTATION,
    SIGNATURE_TYPE,
    SIMPLE_SIGNING,
    STATEMENT,
    VULNERABILITIES,
    Reference,
    RefusedError,
    Verdict,
    site_key,
    tests_of,
)
from .reader import RegistryReader


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
        _check_gates(statements, require_gates, today or datetime.date.today())
    except RefusedError as refusal:
        return Verdict(text, digest, str(refusal))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # malformed: refused too
        return Verdict(text, digest, f"a manifest or attachment is malformed: {exc!r}"[:300])
    return Verdict(text, digest, "", key.keyid, statements)


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


def _check_gates(statements: dict[str, Any], require_gates: bool, today: datetime.date) -> None:
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
