"""What a hub can check about a release: signatures, SBOM, provenance and the vulnerability
gate, against a real registry, with `invoke verify` and a real JupyterHub whose DockerSpawner
configuration is the one `invoke profiles` wrote."""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import bcrypt
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from securesystemslib.dsse import Envelope
from securesystemslib.signer import Signer
from traitlets.config.loader import PyFileConfigLoader

from hubimages.core.files import file_sha256
from hubimages.core.ports import free_port
from hubimages.deps.lockfile import lock_name
from hubimages.model.project import CHECKOUT
from hubimages.publish.push import push_tag
from hubimages.publish.records import PublishedImage, Release
from hubimages.publish.trust.attach import Layer, attestation_layer, signature_layer
from hubimages.publish.trust.keys import SiteKeys, decrypt_private_key, generate, load_signer
from hubimages.publish.trust.verification import PROVENANCE, SBOM, VULNERABILITIES
from hubimages.services.hub import LocalHub, proxy_source
from tests.publish.helpers import (
    BASE_REF,
    DEFAULT,
    NAMESPACE,
    OTHERS,
    SIX_WHEELS,
    Project,
    Registry,
    release,
    require_every_variant_base,
)
from tests.publish.trust_helpers import Attachments, HubUser, blob_file, flipped_byte

pytestmark = pytest.mark.slow
HUB_NETWORK = f"{NAMESPACE}-trust-hub"


def site_keys(project: Project) -> Path:
    assert project.keys is not None  # the fixture gives every project a key of its own
    return project.keys


def released_image(project: Project) -> tuple[Release, PublishedImage]:
    record = Release.from_dict(
        json.loads(next(project.publish.glob("*/history.json")).read_text())[0]
    )
    return record, record.images[0]


def statements(layers: list[Layer]) -> dict[str, dict]:
    found = {}
    for layer in layers:
        envelope = Envelope.from_dict(json.loads(layer.data))
        body = json.loads(envelope.payload)
        found[body["predicateType"]] = body
    return found


def refused_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("FAIL ") and "Traceback" not in result.stderr
    return line


def test_a_release_is_signed_with_its_sbom_provenance_and_audit(
    project: Project, registry: Registry, client
) -> None:
    released = release(project, registry)
    assert released.returncode == 0, released.stderr[-3000:]
    assert "signed 1 images with SBOMs, provenance and audits" in released.stderr
    record, image = released_image(project)

    verified = project.invoke("verify")  # the newest recorded release
    assert verified.returncode == 0, verified.stdout + verified.stderr
    [line] = verified.stdout.splitlines()
    assert line.startswith(f"ok    {image.repository}:{image.tag} {image.digest[:19]}: signed by")
    assert "tests 2 passed" in line
    assert project.invoke("verify", "-r", image.pinned).returncode == 0

    found = statements(Attachments(registry, image).layers(".att"))
    assert set(found) == {SBOM, PROVENANCE, VULNERABILITIES}
    for statement in found.values():
        assert statement["subject"] == [
            {"name": image.repository, "digest": {"sha256": image.digest.split(":")[1]}}
        ]
    sbom = found[SBOM]["predicate"]
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(sbom)) is None
    properties = {p["name"]: p["value"] for p in sbom["metadata"]["properties"]}
    assert properties["org.skahub:variant"] == DEFAULT.name
    assert properties["org.skahub:python"] == DEFAULT.python
    components = {c["purl"].split("@")[0]: c for c in sbom["components"]}
    six = components["pkg:pypi/six"]
    assert six["version"] == "1.16.0"
    assert {"alg": "SHA-256", "content": SIX_WHEELS["1.16.0"]} in six["hashes"]
    bash = components["pkg:deb/debian/bash"]
    assert bash["purl"].endswith(f"?arch=amd64&distro={DEFAULT.suite}")
    assert bash["pedigree"]["ancestors"][0]["name"] == "bash"
    nested = [
        n
        for c in sbom["components"]
        for e in c.get("components", [])
        for n in [e, *e.get("components", [])]
    ]
    assert any(n["purl"].startswith("pkg:npm/") for n in nested)  # JupyterLab extensions' JS

    provenance = found[PROVENANCE]["predicate"]
    parameters = provenance["buildDefinition"]["externalParameters"]
    assert (parameters["variant"], parameters["debian"], parameters["python"]) == (
        DEFAULT.name,
        DEFAULT.suite,
        DEFAULT.python,
    )
    source = parameters["source"]
    # The commit the image was built at (an identical image built earlier is up to date).
    built_at = client.images.get(image.image_id).labels["org.opencontainers.image.revision"]
    assert source == {"repository": "", "commit": built_at, "dirty": False}
    dependencies = {d.get("name"): d for d in provenance["buildDefinition"]["resolvedDependencies"]}
    assert dependencies["build-matrix.yaml"]["digest"]["sha256"] == file_sha256(project.matrix)
    lock = f"images/hello/{lock_name(DEFAULT.name)}"  # the variant's own lock
    assert dependencies[lock]["digest"]["sha256"] == file_sha256(project.root / lock)
    assert dependencies["parent"]["annotations"]["imageId"].startswith("sha256:")
    [tests] = provenance["runDetails"]["byproducts"]
    junit = project.root / f".cache/variants/{DEFAULT.name}/test-results/hello.xml"
    assert tests["digest"]["sha256"] == file_sha256(junit)
    assert (
        tests["annotations"] | {"passed": True, "tests": 2, "failures": 0} == tests["annotations"]
    )
    audit = found[VULNERABILITIES]["predicate"]["scanner"]["result"]
    assert audit["gated"] is True and audit["variant"] == DEFAULT.name
    assert audit["sources"]["debian"].startswith(f"{DEFAULT.suite}-security")
    # The release record keeps the same documents for the catalogue.
    folder = next(project.publish.glob("*/releases")) / record.tag
    assert json.loads((folder / "hello.sbom.cdx.json").read_text()) == sbom
    assert (
        json.loads((folder / "hello.vulnerabilities.json").read_text())["scanner"]["result"]
        == audit
    )


def test_every_variant_is_audited_signed_and_verified_on_its_own_suite(
    project: Project, registry: Registry, client
) -> None:
    """`--variant all`: each variant's image has its own digest, SBOM (its Debian suite),
    provenance (its variant and lock) and audit (its security suite); `invoke verify` with no
    reference verifies every variant's newest release, `--variant` one of them."""
    require_every_variant_base(client)
    released = release(project, registry, "--variant=all")
    assert released.returncode == 0, released.stderr[-3000:]
    history = [
        Release.from_dict(r)
        for r in json.loads(next(project.publish.glob("*/history.json")).read_text())
    ]
    images = {r.variant: r.images[0] for r in history}
    variants = [DEFAULT, *(o.variant for o in OTHERS)]
    assert set(images) == {v.name for v in variants}
    assert len({i.digest for i in images.values()}) == len(variants)

    verified = project.invoke("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    lines = verified.stdout.splitlines()
    assert len(lines) == len(variants) and all(line.startswith("ok    ") for line in lines)
    for variant in variants:
        image = images[variant.name]
        assert any(f"{image.repository}:{image.tag} {image.digest[:19]}" in x for x in lines)
        found = statements(Attachments(registry, image).layers(".att"))
        debs = [
            c["purl"] for c in found[SBOM]["predicate"]["components"] if "pkg:deb/" in c["purl"]
        ]
        assert debs and all(p.endswith(f"distro={variant.suite}") for p in debs), variant.name
        parameters = found[PROVENANCE]["predicate"]["buildDefinition"]["externalParameters"]
        assert (parameters["variant"], parameters["python"]) == (variant.name, variant.python)
        names = [
            d.get("name")
            for d in found[PROVENANCE]["predicate"]["buildDefinition"]["resolvedDependencies"]
        ]
        assert f"images/hello/{lock_name(variant.name)}" in names
        audit = found[VULNERABILITIES]["predicate"]["scanner"]["result"]
        assert audit["variant"] == variant.name
        assert audit["sources"]["debian"].startswith(f"{variant.suite}-security")

    for other in OTHERS:
        one = project.invoke("verify", f"--variant={other.variant.name}")
        assert one.returncode == 0, one.stdout + one.stderr
        [line] = one.stdout.splitlines()
        assert images[other.variant.name].tag in line


def hub_with_unsigned_choice(project: Project, tmp_path: Path, unsigned: str) -> LocalHub:
    """The profiles `invoke release` wrote, plus a choice an admin pinned by hand: an image
    nobody signed."""
    profiles = next(project.publish.glob("*/profiles/dockerspawner_config.py"))
    wrapper = tmp_path / "hub_profiles.py"
    wrapper.write_text(
        f"load_subconfig({str(profiles)!r})\n"
        f"c.DockerSpawner.allowed_images['Unsigned'] = {unsigned!r}\n"
    )
    return LocalHub(
        tmp_path / "hub", proxy_source(CHECKOUT), wrapper, port=free_port(), name=HUB_NETWORK
    )


def push_unsigned(client, registry: Registry, image: PublishedImage) -> str:
    """Another image (the base) pushed under the released tag's name, unsigned; its digest."""
    return push_tag(client, client.images.get(BASE_REF).id, image.repository, image.tag, None)


def restore_tag(attachments: Attachments, image: PublishedImage) -> None:
    body = attachments.client.raw_manifest(image.name, image.digest) or b""
    attachments.client.put_manifest(image.name, image.tag, body, json.loads(body)["mediaType"])


def profile_label(project: Project, image: PublishedImage) -> str:
    profiles = next(project.publish.glob("*/profiles/dockerspawner_config.py"))
    config = PyFileConfigLoader(profiles.name, path=str(profiles.parent)).load_config()
    allowed = config.DockerSpawner.allowed_images
    return next(label for label, pinned in allowed.items() if pinned == image.pinned)


@dataclass
class Tampering:
    """Each way the registry's copy can go wrong, done and undone."""

    registry: Registry
    image: PublishedImage
    site: Signer
    other: Signer
    expired: str

    @property
    def attachments(self) -> Attachments:
        return Attachments(self.registry, self.image)

    @contextmanager
    def case(self, name: str) -> Iterator[None]:
        signature, attestations = self.attachments.layers(".sig"), self.attachments.layers(".att")
        try:
            if name == "config":
                with flipped_byte(blob_file(self.registry, self.image.image_id)):
                    yield
                return
            if name == "provenance":
                layer = next(
                    a for a in attestations if a.annotations["predicateType"] == PROVENANCE
                )
                with flipped_byte(
                    blob_file(self.registry, "sha256:" + sha256(layer.data).hexdigest())
                ):
                    yield
                return
            if name == "no-signature":
                self.attachments.delete(".sig")
            elif name == "other-key":
                self.attachments.replace(".sig", [signature_layer(self.other, self.image)])
            else:
                self.attachments.replace(".att", [self._changed(name, a) for a in attestations])
            yield
        finally:
            self.attachments.replace(".sig", signature)
            self.attachments.replace(".att", attestations)

    def _changed(self, name: str, layer: Layer) -> Layer:
        kind = layer.annotations["predicateType"]
        envelope = json.loads(layer.data)
        statement = json.loads(base64.b64decode(envelope["payload"]))
        if name == "sbom" and kind == SBOM:  # a component removed, the signature kept
            statement["predicate"]["components"].pop()
            envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
            return Layer(json.dumps(envelope).encode(), layer.media_type, layer.annotations)
        if name == "expired" and kind == VULNERABILITIES:  # signed, as if released a while ago
            result = statement["predicate"]["scanner"]["result"]
            result["accepted"] = [
                {"id": "PYSEC-2026-1", "package": "six", "reason": "t", "expires": self.expired}
            ]
            return attestation_layer(self.site, self.image, kind, statement["predicate"])
        return layer


def test_tampered_unsigned_or_foreign_images_are_refused_by_verify_and_the_hub(
    project: Project, registry: Registry, client, tmp_path: Path
) -> None:
    released = release(project, registry)
    assert released.returncode == 0, released.stderr[-3000:]
    _, image = released_image(project)
    attachments = Attachments(registry, image)
    other = SiteKeys(tmp_path / "other-keys")
    generate(other)
    expired = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    tampering = Tampering(
        registry, image, load_signer(SiteKeys(site_keys(project))), load_signer(other), expired
    )

    # An unsigned image pushed under the pinned tag's name: the tag moves, the pin does not.
    unsigned = push_unsigned(client, registry, image)
    moved = project.invoke("verify", "-r", f"{image.repository}:{image.tag}")
    assert "unsigned: no signature" in refused_line(moved)
    pinned_back = project.invoke("profiles", f"--release={image.tag}")
    assert pinned_back.returncode == 1 and "no profiles were written" in pinned_back.stderr
    assert "unsigned" in pinned_back.stderr
    restore_tag(attachments, image)
    assert project.invoke("verify", "-r", f"{image.repository}:{image.tag}").returncode == 0

    cases = {
        "config": "the image's config in the registry does not match its digest",
        "sbom": "the SBOM's signature does not verify with the site key",
        "provenance": "the signed provenance in the registry does not match its digest",
        "no-signature": "unsigned: no signature",
        "other-key": "not signed by the site key",
        "expired": f"expired on {expired}",
    }
    hub = hub_with_unsigned_choice(project, tmp_path, f"{image.repository}:{image.tag}@{unsigned}")
    hub.start()
    try:
        user = HubUser(hub.url, "alice", hub.password)
        page = user.spawn("Unsigned")
        assert f"is refused: unsigned: no signature of {unsigned[:19]}" in page, page[-2000:]
        label = profile_label(project, image)
        for case, expected in cases.items():
            with tampering.case(case):
                line = refused_line(project.invoke("verify", "-r", image.pinned))
                assert expected in line, (case, line)
                page = user.spawn(label)
                assert f"{image.repository}:{image.tag} is refused: " in page, (case, page[-2000:])
                assert expected in page, (case, page[-2000:])
        assert project.invoke("verify", "-r", image.pinned).returncode == 0  # all put back
    finally:
        hub.stop()
    assert "refused" in hub.log_path.read_text()


def readable(path: Path) -> bytes:
    """A file's bytes, a gzip-compressed layer's uncompressed."""
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def test_no_key_password_or_token_in_layers_labels_records_logs_or_artifacts(
    project: Project, tmp_path_factory, client
) -> None:
    root = tmp_path_factory.mktemp("auth-registry")
    password = "Registry-Pa55-" + os.urandom(6).hex()
    htpasswd = root / "htpasswd"
    htpasswd.write_text("admin:" + bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode())
    secured = Registry(root, htpasswd=htpasswd)
    secured.start()
    env = {"HUBIMAGES_REGISTRY_USER": "admin", "HUBIMAGES_REGISTRY_PASSWORD": password}
    try:
        released = release(project, secured, env=env)
        assert released.returncode == 0, released.stderr[-3000:]
        verified = project.invoke("verify", env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        _, image = released_image(project)
        labels = json.dumps(client.images.get(image.image_id).labels)
    finally:
        secured.stop()
    site = SiteKeys(site_keys(project))
    passphrase = site.passphrase.read_bytes().strip()
    der = decrypt_private_key(site.private.read_bytes(), passphrase)
    secrets = {
        "registry password": password.encode(),
        "basic token": base64.b64encode(f"admin:{password}".encode()),
        "key passphrase": passphrase,
        "encrypted key": "".join(site.private.read_text().splitlines()[1:-1])[:48].encode(),
        "private key (DER)": der,
        "private key (base64)": base64.b64encode(der)[:48],
        "private key (hex)": der.hex().encode(),
    }
    texts = {
        "output": (released.stdout + released.stderr + verified.stdout + verified.stderr).encode(),
        "labels": labels.encode(),
        **{str(p): readable(p) for p in secured.storage.rglob("*") if p.is_file()},
        **{str(p): p.read_bytes() for p in (project.root / ".cache").rglob("*") if p.is_file()},
        "registry log": secured.log_path.read_bytes(),
    }
    sbom_blobs = [name for name, text in texts.items() if b'"bomFormat"' in text]
    assert sbom_blobs, "the search reads the attached SBOM"  # it sees what it should
    public = site.public.read_text().splitlines()[1].encode()
    assert any(public in t for t in texts.values())  # the public key is out, in the profiles
    leaks = [
        (what, name) for name, text in texts.items() for what, s in secrets.items() if s in text
    ]
    assert leaks == []
    assert sum(map(len, texts.values())) > 10**8  # the layers were read, uncompressed
