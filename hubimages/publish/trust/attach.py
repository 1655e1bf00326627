"""Sign a pushed image and attach its signed statements, in the registry beside the image.

Where a registry lacks the OCI referrers API (Debian's docker-registry 2.8 does), cosign and
skopeo keep attachments under tags derived from the image's digest; so do we:

    <repository>:sha256-<hex>.sig   a cosign simple-signing signature of the digest (skopeo's
                                    policy.json `sigstoreSigned` and cosign verify check it)
    <repository>:sha256-<hex>.att   DSSE envelopes of in-toto statements about the digest: the
                                    SBOM, the provenance, the vulnerability audit

Each is an OCI image manifest whose layers are the payloads, as cosign writes them. A release
rerun replaces both (ECDSA signatures differ each time; the statements do not).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from securesystemslib.dsse import Envelope
from securesystemslib.signer import Signer

from hubimages.publish.records import PublishedImage
from hubimages.publish.registry import RegistryClient
from hubimages.publish.trust.verification import (
    DSSE,
    IN_TOTO,
    SIGNATURE_ANNOTATION,
    SIGNATURE_TYPE,
    SIMPLE_SIGNING,
    STATEMENT,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
CREATOR = "hubimages"


@dataclass(frozen=True)
class Layer:
    data: bytes
    media_type: str
    annotations: dict[str, str]


def statement(image: PublishedImage, predicate_type: str, predicate: Any) -> dict[str, Any]:
    return {
        "_type": STATEMENT,
        "subject": [
            {"name": image.repository, "digest": {"sha256": image.digest.split(":", 1)[1]}}
        ],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def envelope(signer: Signer, body: dict[str, Any]) -> bytes:
    """A DSSE envelope of the statement, signed (keyid: the key's sha256, as cosign derives it)."""
    sealed = Envelope(json.dumps(body, sort_keys=True).encode(), IN_TOTO, {})
    sealed.sign(signer)
    return json.dumps(sealed.to_dict()).encode()


def signature_layer(signer: Signer, image: PublishedImage) -> Layer:
    """cosign's simple signing payload for the digest and repository, and its signature."""
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": image.repository},
                "image": {"docker-manifest-digest": image.digest},
                "type": SIGNATURE_TYPE,
            },
            "optional": {"creator": CREATOR, "timestamp": int(time.time())},
        }
    ).encode()
    signature = bytes.fromhex(signer.sign(payload).signature)
    encoded = base64.b64encode(signature).decode()
    return Layer(payload, SIMPLE_SIGNING, {SIGNATURE_ANNOTATION: encoded})


def attestation_layer(
    signer: Signer, image: PublishedImage, predicate_type: str, predicate: Any
) -> Layer:
    data = envelope(signer, statement(image, predicate_type, predicate))
    return Layer(data, DSSE, {"predicateType": predicate_type, SIGNATURE_ANNOTATION: ""})


def attach(
    registry: RegistryClient, image: PublishedImage, suffix: str, layers: list[Layer]
) -> str:
    """Upload the layers and a manifest naming them under sha256-<hex><suffix>; its digest."""
    descriptors = []
    for layer in layers:
        digest = registry.upload_blob(image.name, layer.data)
        descriptors.append(
            {
                "mediaType": layer.media_type,
                "size": len(layer.data),
                "digest": digest,
                "annotations": layer.annotations,
            }
        )
    config = json.dumps(
        {
            "architecture": "",
            "os": "",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descriptors]},
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "size": len(config),
            "digest": registry.upload_blob(image.name, config),
        },
        "layers": descriptors,
    }
    tag = image.digest.replace(":", "-", 1) + suffix
    return registry.put_manifest(image.name, tag, json.dumps(manifest).encode(), OCI_MANIFEST)
