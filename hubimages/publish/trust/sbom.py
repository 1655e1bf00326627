"""The SBOM of a released image: CycloneDX 1.6 JSON, written with cyclonedx-python-lib.

The image is the BOM's subject (an `oci` package URL with its digest). Every Debian package is a
component with its `deb` package URL and, as its pedigree's ancestor, the source package it was
built from; every Python distribution of the venv has its `pypi` package URL and the sha256
hashes its image's lock allows; a wheel that installs JupyterLab extensions holds them (npm
package URLs), and each extension holds the JavaScript packages its bundle lists.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from hubimages.deps.lockfile import Lock, normalize
from hubimages.model.spec import Variant
from hubimages.publish.records import PublishedImage
from hubimages.publish.trust.contents import DebianPackage, ImageInventory, LabExtension

TOOL = "hubimages"
PROPERTY_PREFIX = "org.skahub:"


@dataclass(frozen=True)
class SbomInput:
    image: PublishedImage
    created: str  # the image's created label (ISO 8601, UTC)
    variant: Variant  # the matrix variant the image was built in: its Debian suite, Python
    inventory: ImageInventory
    lock: Lock


def image_purl(image: PublishedImage) -> PackageURL:
    name = image.repository.rsplit("/", 1)[-1]
    return PackageURL(
        type="oci",
        name=name,
        version=image.digest,
        qualifiers={"repository_url": image.repository, "tag": image.tag},
    )


def sbom_json(data: SbomInput) -> str:
    """The CycloneDX document; the same input gives the same bytes (serial number from the
    digest, timestamp from the build)."""
    subject = Component(
        name=data.image.repository,
        version=data.image.tag,
        type=ComponentType.CONTAINER,
        bom_ref=image_purl(data.image).to_string(),
        purl=image_purl(data.image),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=data.image.digest.split(":", 1)[1])],
    )
    components = [_debian(p, data.variant.suite) for p in data.inventory.debian]
    components += _python(data.inventory, data.lock)
    bom = Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, image_purl(data.image).to_string()),
        metadata=BomMetaData(
            component=subject,
            timestamp=datetime.datetime.fromisoformat(data.created.replace("Z", "+00:00")),
            tools=ToolRepository(components=[Component(name=TOOL, type=ComponentType.APPLICATION)]),
            properties=[  # which variant of the image this is (docs/variants.md)
                Property(name=f"{PROPERTY_PREFIX}variant", value=data.variant.name),
                Property(name=f"{PROPERTY_PREFIX}debian:suite", value=data.variant.suite),
                Property(name=f"{PROPERTY_PREFIX}python", value=data.variant.python),
            ],
        ),
        components=components,
    )
    bom.dependencies.add(
        Dependency(
            ref=subject.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in components]
        )
    )
    return str(JsonV1Dot6(bom).output_as_string(indent=None))


def _debian(package: DebianPackage, suite: str) -> Component:
    qualifiers = {"arch": package.architecture, "distro": suite}
    purl = PackageURL("deb", "debian", package.name, package.version, qualifiers)
    source = PackageURL(
        "deb", "debian", package.source, package.source_version, {"arch": "source", "distro": suite}
    )
    return Component(
        name=package.name,
        version=package.version,
        purl=purl,
        bom_ref=purl.to_string(),
        pedigree=Pedigree(
            ancestors=[Component(name=package.source, version=package.source_version, purl=source)]
        ),
        properties=[Property(name=PROPERTY_PREFIX + "debian:source", value=package.source)],
    )


def _python(inventory: ImageInventory, lock: Lock) -> list[Component]:
    locked = {r.normalized: r for r in lock.requirements}
    extensions: dict[str, list[LabExtension]] = {}
    for extension in inventory.extensions:
        extensions.setdefault(normalize(extension.distribution), []).append(extension)
    components = []
    for name, version in inventory.python:
        entry = locked.get(normalize(name))
        hashes = sorted(entry.hashes) if entry is not None and entry.version == version else []
        purl = PackageURL(type="pypi", name=normalize(name), version=version)
        components.append(
            Component(
                name=name,
                version=version,
                purl=purl,
                bom_ref=purl.to_string(),
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=h) for h in hashes],
                components=[_extension(e) for e in extensions.get(normalize(name), [])],
            )
        )
    return components


def _extension(extension: LabExtension) -> Component:
    namespace, _, name = extension.name.rpartition("/")
    purl = PackageURL("npm", namespace or None, name, extension.version)
    bundled = []
    for package, version, _licence in extension.packages:
        scope, _, bare = package.rpartition("/")
        if package and version:
            bundled.append(
                Component(
                    name=package,
                    version=version,
                    purl=PackageURL("npm", scope or None, bare, version),
                )
            )
    return Component(
        name=extension.name,
        version=extension.version,
        purl=purl,
        properties=[Property(name=PROPERTY_PREFIX + "jupyterlab:extension", value="prebuilt")],
        components=bundled,
    )
