"""Rewrite a built wheel as ours: local version, edited Requires-Dist and files, reproducible
bytes.

Sorted entries, fixed time stamps and no compression, so the same declaration gives the same
bytes on any host: the lock pins that hash, and a fresh machine rebuilds the same file.
"""

from __future__ import annotations

import base64
import csv
import fnmatch
import hashlib
import io
import logging
import zipfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from hubimages.core.files import file_sha256, write_atomically
from hubimages.deps.declarations import LocalWheel, TextEdit
from hubimages.deps.esm import inlined_files
from hubimages.errors import HubImagesError, display_path

log = logging.getLogger(__name__)

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
Entries = dict[str, tuple[bytes, bool]]  # path -> (data, executable)


def rewrite(built: Path, wheel: LocalWheel, out_dir: Path, tarball: Path | None = None) -> Path:
    """Give the wheel its local version, edited Requires-Dist and declared text edits, inline
    the declared ES module (from `tarball`); write it reproducibly."""
    name, version, _, _ = parse_wheel_filename(built.name)
    if name != wheel.normalized or str(version) != wheel.version:
        raise HubImagesError(
            f"{wheel.pin}: the sdist built {built.name}, not {wheel.project} {wheel.version}"
        )
    with zipfile.ZipFile(built) as archive:
        files = {
            info.filename: (archive.read(info), bool((info.external_attr >> 16) & 0o111))
            for info in archive.infolist()
            if not info.is_dir()
        }
    old_stem = _dist_info_stem(built, files)
    dist_name = old_stem.rsplit("-", 1)[0]
    new_stem = f"{dist_name}-{wheel.local_version}"
    entries = _renamed(files, old_stem, new_stem)
    dist_info = f"{new_stem}.dist-info"
    for signature in ("RECORD.jws", "RECORD.p7s"):  # no longer valid once edited
        entries.pop(f"{dist_info}/{signature}", None)
    metadata = f"{dist_info}/METADATA"
    entries[metadata] = (edit_metadata(entries[metadata][0], wheel), False)
    for edit in wheel.replace_text:
        _replace_text(entries, edit, wheel)
    if wheel.inline_esm is not None:
        _inline(entries, wheel, tarball, f"{dist_info}/licenses")
    order = _with_record(entries, dist_info)
    target = out_dir / f"{dist_name}-{wheel.local_version}-{built.name.split('-', 2)[2]}"
    _write_zip(target, entries, order)
    log.info("built %s (%s)", target.name, file_sha256(target)[:12])
    return target


def _replace_text(entries: Entries, edit: TextEdit, wheel: LocalWheel) -> None:
    """Apply one edit; an edit that changes nothing means the declaration is stale."""
    changed = 0
    for path in sorted(fnmatch.filter(entries, edit.files)):
        data, executable = entries[path]
        old = edit.old.encode("utf-8")
        if old in data:
            entries[path] = (data.replace(old, edit.new.encode("utf-8")), executable)
            changed += 1
            log.info("%s: replaced %r in %s", wheel.pin, edit.old, path)
    if not changed:
        raise HubImagesError(
            f"{display_path(wheel.source)}: {wheel.project}: replace_text: no file matching "
            f"{edit.files!r} contains {edit.old!r}; update or remove the edit"
        )


def _inline(entries: Entries, wheel: LocalWheel, tarball: Path | None, license_dir: str) -> None:
    spec = wheel.inline_esm
    where = f"{display_path(wheel.source)}: {wheel.project}: inline_esm"
    if spec is None or tarball is None:
        raise HubImagesError(f"{where}: the npm tarball was not fetched")
    if spec.file not in entries:
        raise HubImagesError(f"{where}: the built wheel has no file {spec.file}")
    try:
        changed = inlined_files(spec, tarball, entries[spec.file][0], license_dir)
    except HubImagesError as exc:
        raise HubImagesError(f"{where}: {exc}") from None
    entries.update({path: (data, False) for path, data in changed.items()})


def _dist_info_stem(built: Path, files: Entries) -> str:
    dist_infos = {
        p.split("/", 1)[0]
        for p in files
        if p.split("/", 1)[0].endswith(".dist-info")
        and p.count("/") == 1
        and p.endswith("/METADATA")
    }
    if len(dist_infos) != 1:
        raise HubImagesError(
            f"{built.name}: expected one .dist-info folder, found {sorted(dist_infos) or 'none'}"
        )
    return dist_infos.pop().removesuffix(".dist-info")


def _renamed(files: Entries, old_stem: str, new_stem: str) -> Entries:
    renamed: Entries = {}
    for path, entry in files.items():
        top, _, rest = path.partition("/")
        if top in (f"{old_stem}.dist-info", f"{old_stem}.data"):
            path = f"{new_stem}{top[len(old_stem) :]}/{rest}"
        renamed[path] = entry
    return renamed


def _with_record(entries: Entries, dist_info: str) -> list[str]:
    """A fresh RECORD listing every file with its hash; the write order, RECORD last."""
    record = f"{dist_info}/RECORD"
    entries.pop(record, None)
    order = sorted(entries, key=lambda p: (p.startswith(f"{dist_info}/"), p))
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    for path in order:
        data = entries[path][0]
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([path, f"sha256={digest}", len(data)])
    writer.writerow([record, "", ""])
    entries[record] = (lines.getvalue().encode(), False)
    return [*order, record]


def _write_zip(target: Path, entries: Entries, order: list[str]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for path in order:
            data, executable = entries[path]
            info = zipfile.ZipInfo(path, ZIP_TIME)
            info.create_system = 3  # unix, so the modes below are read
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            # Stored, not deflated: compressed bytes may differ between zlib builds.
            info.compress_type = zipfile.ZIP_STORED
            out.writestr(info, data)
    write_atomically(target, buffer.getvalue())


def edit_metadata(data: bytes, wheel: LocalWheel) -> bytes:
    """Set Version to the local version; drop and add the declared Requires-Dist entries."""
    head, sep, body = data.decode("utf-8").partition("\n\n")
    drops = {_key(r): r for r in wheel.drop_requires}
    dropped: set[tuple[str, ...]] = set()
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
            f"a requirement of the built wheel (it has: {', '.join(present) or 'none'})"
        )
    if wheel.add_requires:
        at = max(
            (i + 1 for i, line in enumerate(kept) if line.startswith("Requires-Dist: ")),
            default=len(kept),
        )
        kept[at:at] = [f"Requires-Dist: {r}" for r in wheel.add_requires]
    return ("\n".join(kept) + sep + body).encode("utf-8")


def _key(requirement: str) -> tuple[str, ...]:
    """Compare requirements by meaning, not spelling (spaces, specifier order, name case)."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return ("unparsable", requirement)
    return (
        canonicalize_name(req.name),
        ",".join(sorted(req.extras)),
        str(req.specifier),
        req.url or "",
        str(req.marker) if req.marker else "",
    )
