"""Declarations of wheels built on the host from a pinned sdist (`local-wheels.yaml`).

Builds install wheels only. When a project an image needs publishes no usable wheel (sdist-only,
or metadata that pins something stale), its image folder declares it:

    rucio-jupyterlab:                  # the project, as on the index
      version: 41.0.0                  # the sdist's version
      sdist_sha256: 3348...            # verified after download from settings.index_url
      label: skahub1                   # the wheel is 41.0.0+skahub1: never the upstream one
      drop_requires: ["notebook<7"]    # Requires-Dist entries removed (each must be there)
      add_requires: []                 # Requires-Dist entries added (optional)
      replace_text:                    # text edits of the wheel's files (optional)
        - files: "*/static/*.js"       # glob over paths inside the wheel
          old: "@import url(https://...);"   # each edit must change at least one file
          new: ""
      reason: one line saying why

and pins `<project>==<version>+<label>` in its requirements.in (see deps.wheelbuild).

A widget whose JavaScript imports a library from a CDN at run time (blank offline) may declare
`inline_esm`: that import of one file of the wheel is replaced by the library's ES module, taken
from its pinned npm tarball, and the tarball's licence files go to the wheel's dist-info
(see deps.esm):

      inline_esm:
        file: ipyaladin/static/widget.js    # the file of the wheel that imports it
        import: https://esm.sh/lib@1.0      # the URL of the import statement replaced
        tarball: https://registry.npmjs.org/lib/-/lib-1.0.tgz
        sha256: 0123...                     # of the tarball, verified after download
        module: package/dist/lib.js         # the ES module inside the tarball
        licenses: [package/LICENSE]         # shipped in <dist-info>/licenses/<tarball name>/
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from hubimages.errors import HubImagesError, display_path
from hubimages.model.yamlfile import YamlError, parse_yaml

DECLARATIONS = "local-wheels.yaml"
KEYS = {
    "version",
    "sdist_sha256",
    "label",
    "drop_requires",
    "add_requires",
    "replace_text",
    "reason",
    "inline_esm",
}
REQUIRED = ("version", "sdist_sha256", "label", "reason")
TEXT_EDIT_KEYS = ("files", "old", "new")
INLINE_KEYS = ("file", "import", "tarball", "sha256", "module", "licenses")
LABEL = re.compile(r"^[a-z0-9]+(?:\.[a-z0-9]+)*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class TextEdit:
    """`old` replaced by `new` in every file of the wheel whose path matches the glob `files`."""

    files: str
    old: str
    new: str


@dataclass(frozen=True)
class InlineModule:
    """An npm ES module put in place of a CDN import in one file of the wheel."""

    file: str  # path inside the wheel
    url: str  # the import statement's URL
    tarball: str  # https URL of the npm tarball
    sha256: str
    module: str  # path of the ES module inside the tarball
    licenses: tuple[str, ...]

    @property
    def tarball_name(self) -> str:
        return self.tarball.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LocalWheel:
    project: str
    version: str
    sdist_sha256: str
    label: str
    reason: str
    drop_requires: tuple[str, ...] = ()
    add_requires: tuple[str, ...] = ()
    replace_text: tuple[TextEdit, ...] = ()
    inline_esm: InlineModule | None = None
    source: Path = Path(DECLARATIONS)

    @property
    def normalized(self) -> str:
        return canonicalize_name(self.project)

    @property
    def local_version(self) -> str:
        return f"{self.version}+{self.label}"

    @property
    def pin(self) -> str:
        return f"{self.project}=={self.local_version}"


def load(path: Path) -> list[LocalWheel]:
    """Read one local-wheels.yaml; any mistake is one line naming the file and the key."""
    where = display_path(path)
    try:
        raw = parse_yaml(path.read_text())
    except YamlError as problem:
        raise HubImagesError(f"{where}: {problem}") from None
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise HubImagesError(f"{where}: must be a mapping of project names to declarations")
    return [_entry(where, path, project, spec) for project, spec in raw.items()]


def declared(folders: Iterable[Path]) -> list[LocalWheel]:
    """The local wheels the given image folders declare, in folder order."""
    return [
        w
        for folder in folders
        if (folder / DECLARATIONS).is_file()
        for w in load(folder / DECLARATIONS)
    ]


def _entry(where: str, path: Path, project: object, spec: object) -> LocalWheel:
    if not isinstance(project, str) or not isinstance(spec, dict):
        raise HubImagesError(f"{where}: {project!r}: must be a project name mapping to its keys")
    for key in spec:
        if key not in KEYS:
            raise HubImagesError(
                f"{where}: {project}: unknown key {key!r}; allowed: {', '.join(sorted(KEYS))}"
            )
    for key in REQUIRED:
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise HubImagesError(
                f"{where}: {project}: key {key!r} is missing or not a string "
                "(quote versions like '41.0')"
            )

    def fail(key: str, message: str) -> HubImagesError:
        return HubImagesError(f"{where}: {project}: key {key!r}: {message}")

    _check_fields(spec, fail)
    edits = {
        key: _requirements(spec.get(key, []), key, fail)
        for key in ("drop_requires", "add_requires")
    }
    text_edits = _text_edits(spec.get("replace_text", []), fail)
    inline = _inline_module(spec["inline_esm"], fail) if "inline_esm" in spec else None
    # No edits is fine: an sdist-only release built as it is (still labelled as ours).
    return LocalWheel(
        project=project,
        version=spec["version"],
        sdist_sha256=spec["sdist_sha256"],
        label=spec["label"],
        reason=spec["reason"].strip(),
        replace_text=text_edits,
        inline_esm=inline,
        source=path,
        **edits,
    )


def _check_fields(spec: dict[str, Any], fail: Any) -> None:
    try:
        version = Version(spec["version"])
    except InvalidVersion:
        raise fail("version", f"{spec['version']!r} is not a version") from None
    if version.local is not None or str(version) != spec["version"]:
        raise fail("version", "give the sdist's version as the index spells it, no +label")
    if not SHA256.match(spec["sdist_sha256"]):
        raise fail("sdist_sha256", "must be 64 lowercase hex digits")
    if not LABEL.match(spec["label"]):
        raise fail("label", "must be a local version label like skahub1 (a-z, 0-9, dots)")
    if "\n" in spec["reason"].strip():
        raise fail("reason", "must be one line")


def _requirements(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of requirement strings")
    for item in value:
        try:
            Requirement(item)
        except InvalidRequirement:
            raise fail(key, f"{item!r} is not a requirement") from None
    return tuple(value)


def _text_edits(value: Any, fail: Any) -> tuple[TextEdit, ...]:
    shape = f"must be a list of mappings with the keys {', '.join(TEXT_EDIT_KEYS)}"
    if not isinstance(value, list):
        raise fail("replace_text", shape)
    edits = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != set(TEXT_EDIT_KEYS)
            or not all(isinstance(item[key], str) for key in TEXT_EDIT_KEYS)
        ):
            raise fail("replace_text", f"{shape} (strings; new may be empty)")
        if not item["files"].strip() or not item["old"]:
            raise fail("replace_text", "files and old must not be empty")
        edits.append(TextEdit(files=item["files"], old=item["old"], new=item["new"]))
    return tuple(edits)


def _inline_module(value: Any, fail: Any) -> InlineModule:
    if not isinstance(value, dict):
        raise fail("inline_esm", f"must be a mapping with the keys {', '.join(INLINE_KEYS)}")
    unknown = sorted(set(value) - set(INLINE_KEYS))
    missing = [
        key
        for key in INLINE_KEYS[:-1]
        if not isinstance(value.get(key), str) or not value[key].strip()
    ]
    if unknown or missing:
        raise fail(
            "inline_esm",
            f"unknown key {unknown[0]!r}"
            if unknown
            else f"key {missing[0]!r} is missing or not a string",
        )
    if not value["tarball"].startswith("https://") or not value["import"].startswith("https://"):
        raise fail("inline_esm", "import and tarball must be https URLs")
    if not SHA256.match(value["sha256"]):
        raise fail("inline_esm", "sha256 must be 64 lowercase hex digits")
    licenses = value.get("licenses", [])
    if not isinstance(licenses, list) or not all(isinstance(v, str) for v in licenses):
        raise fail("inline_esm", "licenses must be a list of paths inside the tarball")
    return InlineModule(
        file=value["file"],
        url=value["import"],
        tarball=value["tarball"],
        sha256=value["sha256"],
        module=value["module"],
        licenses=tuple(licenses),
    )
