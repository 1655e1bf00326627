"""Put an npm library's ES module in place of a CDN import in a widget's JavaScript.

Some notebook widgets (ipyaladin) ship a small ES module that imports their viewer library from a
CDN when the notebook renders (`import A from "https://esm.sh/lib@1.0"`): offline, or behind a
proxy that blocks the CDN, the widget stays blank. A local wheel may declare `inline_esm`
(deps.declarations): the library's own ES module, from its npm tarball (pinned by sha256,
downloaded on the host, never in a build), replaces that import, and the tarball's licence files
go to the wheel's dist-info. No node or bundler is needed: the library module is wrapped in a
function whose value is its default export, which keeps its names out of the widget's scope.

That is only sound for a self-contained module: no import of its own, no `import.meta`, no
top-level `await`, and one `export{X as default}` at its very end. Anything else is refused with
one line rather than turned into a widget that fails in the browser.
"""

from __future__ import annotations

import logging
import re
import tarfile
from pathlib import Path

from hubimages.core.files import file_sha256
from hubimages.deps.declarations import InlineModule
from hubimages.deps.index import IndexFile, PackageIndex
from hubimages.errors import HubImagesError

log = logging.getLogger(__name__)

DEFAULT_EXPORT = re.compile(r"\bexport\s*\{\s*([A-Za-z_$][\w$]*)\s+as\s+default\s*\}\s*;?\s*$")
# Minified code: a statement starts after `;`, `}` or a line break.
OTHER_EXPORT = re.compile(
    r"(?:^|[;}\n])\s*export\s*(?:[{*]|(?:default|const|let|var|function|"
    r"class|async)\b)"
)
NOT_SELF_CONTAINED = {
    "an import statement": re.compile(r"(?:^|[;}\n])\s*import\s*[\w${*\"']"),
    "a dynamic import()": re.compile(r"\bimport\s*\("),
    "import.meta": re.compile(r"\bimport\s*\.\s*meta\b"),
    "await (possibly top-level)": re.compile(r"\bawait\b"),
}


def fetch_tarball(spec: InlineModule, folder: Path, index: PackageIndex) -> Path:
    """The npm tarball in the cache, downloaded (and its sha256 checked) when missing."""
    target = folder / spec.tarball_name
    if target.is_file() and file_sha256(target) == spec.sha256:
        return target
    index.download(IndexFile(spec.tarball_name, spec.sha256, spec.tarball), target)
    return target


def inlined_files(
    spec: InlineModule, tarball: Path, importer: bytes, license_dir: str
) -> dict[str, bytes]:
    """The wheel's files that change: the importing file, and the library's licence files
    under `license_dir/<tarball name without .tgz>/`."""
    if file_sha256(tarball) != spec.sha256:
        raise HubImagesError(f"{tarball.name}: sha256 is not the declared {spec.sha256[:12]}...")
    members = _read_members(tarball, [spec.module, *spec.licenses])
    module = members[spec.module].decode("utf-8")
    changed = {
        spec.file: inline_module(importer.decode("utf-8"), spec.url, module, spec.module).encode(
            "utf-8"
        )
    }
    folder = f"{license_dir}/{spec.tarball_name.removesuffix('.tgz')}"
    for path in spec.licenses:
        changed[f"{folder}/{path.rsplit('/', 1)[-1]}"] = members[path]
    log.info("inlined %s (%d kB) into %s", spec.module, len(module) // 1000, spec.file)
    return changed


def inline_module(importer: str, url: str, module: str, module_name: str = "the module") -> str:
    """`importer` with `import X from "url"` removed and X defined first, as the value of
    the wrapped module: evaluated before the importer's own code, as an ES import is."""
    statement = re.compile(
        r"\bimport\s*([A-Za-z_$][\w$]*)\s*from\s*([\"'])" + re.escape(url) + r"\2\s*;?"
    )
    found = statement.findall(importer)
    if len(found) != 1:
        raise HubImagesError(
            f'expected one `import X from "{url}"` in the widget, found {len(found)}'
        )
    name = found[0][0]
    body, exported = _module_body(module, module_name)
    wrapped = f"const {name}=(()=>{{{body}\nreturn {exported};}})();\n"
    return wrapped + statement.sub("", importer, count=1)


def _module_body(module: str, module_name: str) -> tuple[str, str]:
    match = DEFAULT_EXPORT.search(module)
    if match is None:
        raise HubImagesError(f"{module_name}: does not end with `export{{X as default}}`")
    body = module[: match.start()]
    if OTHER_EXPORT.search(body):
        raise HubImagesError(f"{module_name}: exports more than its default")
    for what, pattern in NOT_SELF_CONTAINED.items():
        if pattern.search(body):
            raise HubImagesError(
                f"{module_name}: has {what}; only a self-contained ES module can be inlined"
            )
    return body, match.group(1)


def _read_members(tarball: Path, paths: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if member.name in paths and member.isfile():
                data = archive.extractfile(member)
                if data is not None:
                    found[member.name] = data.read()
    missing = [path for path in paths if path not in found]
    if missing:
        raise HubImagesError(f"{tarball.name}: has no file {missing[0]}")
    return found
