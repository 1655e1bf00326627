"""Wheels built on the host from a pinned sdist, with declared metadata edits.

Builds install wheels only. When a project an image needs publishes no usable wheel (sdist-only,
or metadata that pins something stale), its image folder declares it in `local-wheels.yaml`:

    rucio-jupyterlab:                  # the project, as on the index
      version: 41.0.0                  # the sdist's version
      sdist_sha256: 3348...            # verified after download from settings.index_url
      label: skahub1                   # the wheel is 41.0.0+skahub1: never the upstream one
      drop_requires: ["notebook<7"]    # Requires-Dist entries removed (each must be there)
      add_requires: []                 # Requires-Dist entries added (optional)
      reason: one line saying why

and pins `<project>==<version>+<label>` in its requirements.in. The host downloads the sdist
once, builds it with `uv build` (isolated, no config files, build dependencies no newer than the
sdist, fixed SOURCE_DATE_EPOCH), applies the edits and rewrites the wheel with sorted entries,
fixed timestamps and no compression, so the same declaration gives the same bytes on any host:
the lock pins that hash, and a fresh machine rebuilds the same file.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from hubimages.errors import HubImagesError, display_path
from hubimages.locks import file_sha256

log = logging.getLogger(__name__)

DECLARATIONS = "local-wheels.yaml"
OUTPUT = "local-wheels"  # under the cache: <cache>/local-wheels/<file>.whl
SDISTS = "sdists"  # under the cache: the downloaded, verified sdists
KEYS = {"version", "sdist_sha256", "label", "drop_requires", "add_requires", "reason"}
REQUIRED = ("version", "sdist_sha256", "label", "reason")
LABEL = re.compile(r"^[a-z0-9]+(?:\.[a-z0-9]+)*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_building = threading.Lock()  # parallel image builds may want the same wheel


@dataclass(frozen=True)
class LocalWheel:
    project: str
    version: str
    sdist_sha256: str
    label: str
    reason: str
    drop_requires: tuple[str, ...] = ()
    add_requires: tuple[str, ...] = ()
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


# -- declarations -----------------------------------------------------------------------------


def load(path: Path) -> list[LocalWheel]:
    """Read one local-wheels.yaml; any mistake is one line naming the file and the key."""
    where = display_path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise HubImagesError(f"{where}: invalid YAML{line}: fix the syntax") from None
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise HubImagesError(f"{where}: must be a mapping of project names to declarations")
    return [_entry(where, path, project, spec) for project, spec in raw.items()]


def _entry(where: str, path: Path, project: object, spec: object) -> LocalWheel:
    if not isinstance(project, str) or not isinstance(spec, dict):
        raise HubImagesError(f"{where}: {project!r}: must be a project name mapping to its keys")
    for key in spec:
        if key not in KEYS:
            raise HubImagesError(f"{where}: {project}: unknown key {key!r}; "
                                 f"allowed: {', '.join(sorted(KEYS))}")
    for key in REQUIRED:
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise HubImagesError(f"{where}: {project}: key {key!r} is missing or not a string "
                                 "(quote versions like '41.0')")

    def fail(key: str, message: str) -> HubImagesError:
        return HubImagesError(f"{where}: {project}: key {key!r}: {message}")

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
    edits = {}
    for key in ("drop_requires", "add_requires"):
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(key, "must be a list of requirement strings")
        for item in value:
            try:
                Requirement(item)
            except InvalidRequirement:
                raise fail(key, f"{item!r} is not a requirement") from None
        edits[key] = tuple(value)
    # No edits is fine: an sdist-only release built as it is (still labelled as ours).
    return LocalWheel(project=project, version=spec["version"],
                      sdist_sha256=spec["sdist_sha256"], label=spec["label"],
                      reason=spec["reason"].strip(), source=path, **edits)


def declared(folders: Iterable[Path]) -> list[LocalWheel]:
    """The local wheels the given image folders declare, in folder order."""
    return [w for folder in folders if (folder / DECLARATIONS).is_file()
            for w in load(folder / DECLARATIONS)]


# -- building ---------------------------------------------------------------------------------


def output_dir(cache: Path) -> Path:
    return cache / OUTPUT


def find_built(wheel: LocalWheel, cache: Path) -> list[Path]:
    """Wheels of this declaration already in the output folder (any tag)."""
    folder = output_dir(cache)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.whl") if _is_of(p.name, wheel))


def _is_of(filename: str, wheel: LocalWheel) -> bool:
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except ValueError:
        return False
    return name == wheel.normalized and str(version) == wheel.local_version


def ensure(wheel: LocalWheel, index_url: str, cache: Path, rebuild: bool = False) -> Path:
    """The built wheel in <cache>/local-wheels/, built from the verified sdist when missing.

    Locking passes rebuild=True, so an edited declaration never pins a stale file.
    """
    with _building:
        if not rebuild and (found := find_built(wheel, cache)):
            return found[0]
        sdist = fetch_sdist(wheel, index_url, cache / SDISTS)
        return build(wheel, sdist, output_dir(cache), index_url)


def fetch_sdist(wheel: LocalWheel, index_url: str, folder: Path) -> Path:
    """Download the declared sdist once; its sha256 must be the declared one."""
    from hubimages.wheelhouse import WheelFile, _download, _project_files

    for candidate in folder.glob("*") if folder.is_dir() else []:
        if candidate.name.endswith(".partial"):
            continue
        if _sdist_of(candidate.name, wheel) and file_sha256(candidate) == wheel.sdist_sha256:
            return candidate
    files = _project_files(index_url, wheel.normalized)
    for entry in files:
        if entry.get("hashes", {}).get("sha256") == wheel.sdist_sha256:
            if not _sdist_of(entry["filename"], wheel):
                raise HubImagesError(
                    f"{display_path(wheel.source)}: {wheel.project}: the file with sha256 "
                    f"{wheel.sdist_sha256[:12]}... is {entry['filename']}, not the "
                    f"{wheel.version} sdist")
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / entry["filename"]
            _download(WheelFile(entry["filename"], wheel.sdist_sha256, entry["url"]), target)
            return target
    raise HubImagesError(
        f"{display_path(wheel.source)}: {wheel.project}: no file with sha256 "
        f"{wheel.sdist_sha256[:12]}... on {index_url}; check sdist_sha256")


def _sdist_of(filename: str, wheel: LocalWheel) -> bool:
    try:
        name, version = parse_sdist_filename(filename)
    except ValueError:
        return False
    return name == wheel.normalized and str(version) == wheel.version


def build(wheel: LocalWheel, sdist: Path, out_dir: Path, index_url: str,
          exclude_newer: str | None = None) -> Path:
    """Build the sdist in an isolated uv build, apply the edits, write the wheel atomically."""
    if exclude_newer is None:
        exclude_newer = _upload_time(index_url, wheel)
    with tempfile.TemporaryDirectory(prefix="localwheel-") as tmp:
        cmd = [
            *_uv(), "build", "--wheel", "--no-config", "--quiet",
            "--python", sys.executable, "--default-index", index_url, "--out-dir", tmp,
        ]
        if exclude_newer:
            # Build dependencies as they were when the sdist was published: the same bytes later.
            cmd += ["--exclude-newer", exclude_newer]
        cmd.append(str(sdist))
        log.info("building %s from %s", wheel.pin, sdist.name)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                env=_build_env(), cwd=tmp)
        built = sorted(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or len(built) != 1:
            detail = " ".join((result.stderr or result.stdout).strip().splitlines()[-4:])
            raise HubImagesError(f"building {wheel.pin} from {sdist.name} failed: {detail}")
        return rewrite(built[0], wheel, out_dir)


def _upload_time(index_url: str, wheel: LocalWheel) -> str | None:
    from hubimages.wheelhouse import _project_files

    try:
        files = _project_files(index_url, wheel.normalized)
    except OSError as exc:
        raise HubImagesError(f"{wheel.project}: cannot read {index_url}: {exc}") from None
    for entry in files:
        if entry.get("hashes", {}).get("sha256") == wheel.sdist_sha256:
            return entry.get("upload-time")
    return None


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _build_env() -> dict[str, str]:
    # No UV_* settings of this machine (find-links, indexes): only what the command line says.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UV_") or k == "UV_CACHE_DIR"}
    # The host may trust an intercepting proxy's CA that only the system store holds.
    return {**env, "UV_NATIVE_TLS": "1", "SOURCE_DATE_EPOCH": str(EPOCH),
            "PYTHONHASHSEED": "0"}


# -- editing ----------------------------------------------------------------------------------


def rewrite(built: Path, wheel: LocalWheel, out_dir: Path) -> Path:
    """Give the wheel its local version and edited Requires-Dist; write it reproducibly."""
    name, version, _, _ = parse_wheel_filename(built.name)
    if name != wheel.normalized or str(version) != wheel.version:
        raise HubImagesError(f"{wheel.pin}: the sdist built {built.name}, not {wheel.project} "
                             f"{wheel.version}")
    with zipfile.ZipFile(built) as archive:
        files = {info.filename: (archive.read(info), bool((info.external_attr >> 16) & 0o111))
                 for info in archive.infolist() if not info.is_dir()}
    dist_infos = {p.split("/", 1)[0] for p in files
                  if p.split("/", 1)[0].endswith(".dist-info") and p.count("/") == 1
                  and p.endswith("/METADATA")}
    if len(dist_infos) != 1:
        raise HubImagesError(f"{built.name}: expected one .dist-info folder, found "
                             f"{sorted(dist_infos) or 'none'}")
    old_stem = dist_infos.pop().removesuffix(".dist-info")
    dist_name = old_stem.rsplit("-", 1)[0]
    new_stem = f"{dist_name}-{wheel.local_version}"
    renamed: dict[str, tuple[bytes, bool]] = {}
    for path, entry in files.items():
        top, _, rest = path.partition("/")
        if top in (f"{old_stem}.dist-info", f"{old_stem}.data"):
            path = f"{new_stem}{top[len(old_stem):]}/{rest}"
        renamed[path] = entry
    dist_info = f"{new_stem}.dist-info"
    record = f"{dist_info}/RECORD"
    for signature in ("RECORD.jws", "RECORD.p7s"):  # no longer valid once edited
        renamed.pop(f"{dist_info}/{signature}", None)
    metadata = f"{dist_info}/METADATA"
    renamed[metadata] = (edit_metadata(renamed[metadata][0], wheel), False)
    renamed.pop(record, None)

    order = sorted(renamed, key=lambda p: (p.startswith(f"{dist_info}/"), p))
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    for path in order:
        data = renamed[path][0]
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([path, f"sha256={digest}", len(data)])
    writer.writerow([record, "", ""])
    renamed[record] = (lines.getvalue().encode(), False)
    order.append(record)

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{dist_name}-{wheel.local_version}-{built.name.split('-', 2)[2]}"
    handle, partial = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.",
                                       suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as out:
            for path in order:
                data, executable = renamed[path]
                info = zipfile.ZipInfo(path, ZIP_TIME)
                info.create_system = 3  # unix, so the modes below are read
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                # Stored, not deflated: compressed bytes may differ between zlib builds.
                info.compress_type = zipfile.ZIP_STORED
                out.writestr(info, data)
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    log.info("built %s (%s)", target.name, file_sha256(target)[:12])
    return target


def edit_metadata(data: bytes, wheel: LocalWheel) -> bytes:
    """Set Version to the local version; drop and add the declared Requires-Dist entries."""
    head, sep, body = data.decode("utf-8").partition("\n\n")
    drops = {_key(r): r for r in wheel.drop_requires}
    dropped: set[tuple] = set()
    kept: list[str] = []
    versions = 0
    for line in head.split("\n"):
        field, _, value = line.partition(": ")
        if field == "Version":
            versions += 1
            line = f"Version: {wheel.local_version}"
        elif field == "Requires-Dist" and _key(value) in drops:
            dropped.add(_key(value))
            continue
        kept.append(line)
    if versions != 1:
        raise HubImagesError(f"{wheel.pin}: METADATA has {versions} Version fields, expected 1")
    missing = [text for key, text in drops.items() if key not in dropped]
    if missing:
        present = [line.partition(": ")[2] for line in kept if line.startswith("Requires-Dist: ")]
        raise HubImagesError(
            f"{display_path(wheel.source)}: {wheel.project}: drop_requires {missing[0]!r} is not "
            f"a requirement of the built wheel (it has: {', '.join(present) or 'none'})")
    if wheel.add_requires:
        at = max((i + 1 for i, line in enumerate(kept) if line.startswith("Requires-Dist: ")),
                 default=len(kept))
        kept[at:at] = [f"Requires-Dist: {r}" for r in wheel.add_requires]
    return ("\n".join(kept) + sep + body).encode("utf-8")


def _key(requirement: str) -> tuple:
    """Compare requirements by meaning, not spelling (spaces, specifier order, name case)."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return ("unparsable", requirement)
    return (canonicalize_name(req.name), tuple(sorted(req.extras)), str(req.specifier),
            req.url or "", str(req.marker) if req.marker else "")


# -- hooks for locking and fetching -----------------------------------------------------------


def find_links_for_lock(wheels: list[LocalWheel], index_url: str, cache: Path,
                        image: str) -> Path | None:
    """(Re)build the given wheels and put exactly them in a find-links folder for one lock.

    A folder per image, so a lock never sees another image's local wheels.
    """
    if not wheels:
        return None
    folder = output_dir(cache) / "for-lock" / image
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for wheel in wheels:
        built = ensure(wheel, index_url, cache, rebuild=True)
        shutil.copyfile(built, folder / built.name)
    return folder


def wheel_for(name: str, version: str, hashes: Iterable[str], declarations_dir: Path,
              index_url: str, cache: Path) -> Path | None:
    """The local wheel a lock pins as name==version, built if missing; None if not declared.

    `declarations_dir` is the folder holding the image folders (images/): a lock pins a local
    wheel by its project and local version, whichever folder of the lineage declares it.
    """
    if "+" not in version:
        return None
    matches = [w for w in declared(sorted(p for p in declarations_dir.iterdir() if p.is_dir()))
               if w.normalized == canonicalize_name(name) and w.local_version == version]
    if not matches:
        return None
    wheel, wanted = matches[0], set(hashes)
    for path in find_built(wheel, cache):
        if file_sha256(path) in wanted:
            return path
    built = ensure(wheel, index_url, cache, rebuild=True)
    if file_sha256(built) not in wanted:
        raise HubImagesError(
            f"{wheel.pin}: the wheel built from {display_path(wheel.source)} has sha256 "
            f"{file_sha256(built)[:12]}..., not the locked one: the declaration or its build "
            "changed; rerun `invoke lock` for the images that include it")
    return built
