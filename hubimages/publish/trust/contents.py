"""What an SBOM and the vulnerability gate need to know of an image, asked of the image itself.

One container (no network, removed afterwards) lists the Debian packages with their
architecture and source package, the Python distributions of the venv (Debian's own Python
modules are Debian packages and counted there), and, from each wheel's RECORD, the JupyterLab
extensions it installs with the JavaScript packages their bundles list
(`static/third-party-licenses.json`, written by @jupyterlab/builder). Kept per image id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker import DockerClient

from hubimages.builder.probe import run_probe_script
from hubimages.core.files import write_json

CONTENTS_SCRIPT = r"""
import json, shutil, subprocess, sys, importlib.metadata as m
from pathlib import Path
deb = []
if shutil.which("dpkg-query"):
    fmt = "\t".join(["${Package}", "${Version}", "${Architecture}", "${source:Package}",
                     "${source:Version}", "${db:Status-Abbrev}\n"])
    out = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True).stdout
    deb = [l.split("\t")[:5] for l in out.splitlines() if l.count("\t") == 5 and l.endswith("ii ")]
python, extensions = [], []
for dist in m.distributions():
    where = Path(str(dist.locate_file(""))).resolve()
    if not str(where).startswith(str(Path(sys.prefix).resolve())):
        continue
    name = dist.metadata["Name"]
    python.append([name, dist.version])
    for item in dist.files or []:
        parts = item.parts
        if parts[-1] != "package.json" or "labextensions" not in parts:
            continue
        below = parts[parts.index("labextensions") + 1:]  # [@scope/]name/package.json
        if len(below) not in (2, 3) or (len(below) == 3 and not below[0].startswith("@")):
            continue
        folder = Path(str(dist.locate_file(item))).parent
        package = json.loads((folder / "package.json").read_text())
        licences = folder / "static" / "third-party-licenses.json"
        bundled = json.loads(licences.read_text()).get("packages", []) if licences.is_file() else []
        extensions.append({"distribution": name, "name": package.get("name", ""),
            "version": package.get("version", ""), "license": package.get("license", ""),
            "packages": [[p.get("name", ""), p.get("versionInfo", ""), p.get("licenseId", "")]
                         for p in bundled]})
print(json.dumps({"debian": deb, "python": sorted(python), "extensions": extensions}))
"""


@dataclass(frozen=True)
class DebianPackage:
    name: str
    version: str
    architecture: str
    source: str
    source_version: str


@dataclass(frozen=True)
class LabExtension:
    distribution: str  # the Python distribution (wheel) that installs it
    name: str  # its npm name
    version: str
    license: str
    packages: tuple[tuple[str, str, str], ...]  # bundled JS packages: name, version, licence


@dataclass(frozen=True)
class ImageInventory:
    debian: tuple[DebianPackage, ...] = ()
    python: tuple[tuple[str, str], ...] = ()  # distributions of the venv: name, version
    extensions: tuple[LabExtension, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageInventory:
        return cls(
            debian=tuple(DebianPackage(*row) for row in data["debian"]),
            python=tuple((name, version) for name, version in data["python"]),
            extensions=tuple(
                LabExtension(**{**e, "packages": tuple(tuple(p) for p in e["packages"])})
                for e in data["extensions"]
            ),
        )


def image_inventory(client: DockerClient, image_id: str, folder: Path) -> ImageInventory:
    """The image's packages, from the cache of probes or from a container of it."""
    cached = folder / f"{image_id.removeprefix('sha256:')}.contents.json"
    if cached.is_file():
        return ImageInventory.from_dict(json.loads(cached.read_text()))
    data = run_probe_script(client, image_id, CONTENTS_SCRIPT, "listing the packages of image {}")
    write_json(cached, data)
    return ImageInventory.from_dict(data)
