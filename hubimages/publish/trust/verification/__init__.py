"""Verify a pinned image against the site's public key: the one verifier of `invoke verify`,
`invoke profiles` and the hub's pre-spawn hook. Self-contained on purpose (the standard library
and securesystemslib, the in-toto project's signature library, which checks every signature):
`invoke profiles` copies this package (as hubimages_verify/) beside the DockerSpawner
configuration. For the reference's
digest, in the registry (docs/supply-chain.md):

- the manifest and its config blob hash to their digests (a changed byte is refused);
- a cosign simple-signing signature by the site key names that digest and repository, under the
  `sha256-<hex>.sig` tag (cosign's and skopeo's tag schema, for registries without referrers);
- DSSE envelopes signed by the site key under `sha256-<hex>.att`: in-toto statements about that
  digest with the CycloneDX SBOM, the SLSA provenance and the vulnerability audit;
- the gates recorded as passed, and no accepted vulnerability past its expiry date.
"""

from .formats import (
    DSSE,
    IN_TOTO,
    PREDICATES,
    PROVENANCE,
    SBOM,
    SIGNATURE_ANNOTATION,
    SIGNATURE_TYPE,
    SIMPLE_SIGNING,
    STATEMENT,
    TESTS_BYPRODUCT,
    VULNERABILITIES,
    Reference,
    RefusedError,
    Verdict,
    base_url,
    key_id,
    site_key,
    tests_of,
)
from .policy import verify
from .reader import RegistryReader

__all__ = [
    "DSSE",
    "IN_TOTO",
    "PREDICATES",
    "PROVENANCE",
    "SBOM",
    "SIGNATURE_ANNOTATION",
    "SIGNATURE_TYPE",
    "SIMPLE_SIGNING",
    "STATEMENT",
    "TESTS_BYPRODUCT",
    "VULNERABILITIES",
    "Reference",
    "RefusedError",
    "RegistryReader",
    "Verdict",
    "base_url",
    "key_id",
    "site_key",
    "tests_of",
    "verify",
]
