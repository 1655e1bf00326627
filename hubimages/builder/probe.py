"""Ask an image what it holds: its Python, Python packages and Debian packages.

One container, no network, removed afterwards; the answer is kept per image id, which never
changes content, so tags at build time and inventories at release time share one probe.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
from docker import DockerClient

from hubimages.core.files import write_json
from hubimages.errors import HubImagesError

PROBE_SCRIPT = r"""
import json, platform, shutil, subprocess, importlib.metadata as m
deb = ""
if shutil.which("dpkg-query"):
    deb = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"],
                         capture_output=True, text=True).stdout
print(json.dumps({
    "python": platform.python_version(),
    "glibc": platform.libc_ver()[1],
    "python_packages": {d.metadata["Name"].lower(): d.version for d in m.distributions()},
    "debian_packages": dict(line.split("\t", 1) for line in deb.splitlines() if "\t" in line),
}))
"""
PROBE_LABEL = "hubimages.probe"


@dataclass(frozen=True)
class ImageContents:
    python: str
    glibc: str = ""  # "" in probes cached before it was asked
    python_packages: dict[str, str] = field(default_factory=dict)
    debian_packages: dict[str, str] = field(default_factory=dict)


def probe(client: DockerClient, image_id: str, folder: Path) -> ImageContents:
    """What the image holds, from the cache of probes or from a container of it."""
    cached = folder / f"{image_id.removeprefix('sha256:')}.json"
    if cached.is_file():
        return ImageContents(**json.loads(cached.read_text()))
    data = run_probe_script(client, image_id, PROBE_SCRIPT, "asking image {} what it holds")
    contents = ImageContents(
        python=data["python"],
        glibc=data["glibc"],
        python_packages=dict(sorted(data["python_packages"].items())),
        debian_packages=dict(sorted(data["debian_packages"].items())),
    )
    write_json(cached, asdict(contents))
    return contents


def run_probe_script(client: DockerClient, image_id: str, script: str, what: str) -> Any:
    """The JSON a Python script prints last, run in a container of the image as the notebook
    user, without network; `what` (with {} for the short id) names it in the error."""
    try:
        output = client.containers.run(
            image_id,
            ["python", "-c", script],
            entrypoint=[],
            network_mode="none",
            remove=True,
            user="1000",
            labels={PROBE_LABEL: "1"},
        )
    except docker.errors.DockerException as exc:
        raise HubImagesError(f"{what.format(image_id[7:19])} failed: {exc}") from None
    return json.loads(bytes(output).decode().strip().splitlines()[-1])
