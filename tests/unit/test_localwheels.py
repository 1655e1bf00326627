"""Wheels built on the host from a pinned sdist: declarations, edits, reproducibility, fetch.

No network: the sdist is made here, with an in-tree build backend that needs no downloads and
writes a deliberately unreproducible wheel (current time stamps, deflated, unsorted).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import os
import shutil
import sys
import tarfile
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from hubimages.core.cache import CacheLayout
from hubimages.core.waiting import wait_until
from hubimages.deps import declarations, wheelbuild, wheeledit
from hubimages.deps.catalog import LocalWheelCatalog
from hubimages.deps.index import IndexFile, PackageIndex
from hubimages.deps.lockfile import read_lock
from hubimages.deps.wheelhouse import fetch
from hubimages.errors import HubImagesError
from hubimages.model.spec import DebianSettings, Settings

pytestmark = pytest.mark.skipif(
    shutil.which("uv") is None and importlib.util.find_spec("uv") is None, reason="needs uv"
)

INDEX = "https://index.invalid/simple"  # never reached: a build that tried would fail
SETTINGS = Settings(
    namespace="t",
    python="3.11",
    platform="linux/amd64",
    debian=DebianSettings("bookworm", "http://deb.debian.org/debian"),
    glibc="2.36",
    index_url=INDEX,
)

BACKEND = textwrap.dedent("""
    import base64, hashlib, os, time, zipfile

    FILES = {
        "tinyext/__init__.py": b"VALUE = 1\\n",
        "tinyext-1.0.data/data/share/tiny/ext.json": b"{}\\n",
        "tinyext-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"),
        "tinyext-1.0.dist-info/METADATA": (
            b"Metadata-Version: 2.1\\nName: tinyext\\nVersion: 1.0\\nLicense: MIT\\n"
            b"        Version: 9 (a continuation line, not a field)\\n"
            b"Requires-Dist: notebook <7\\nRequires-Dist: requests>=2\\n"
            b"Requires-Dist: pytest; extra == 'test'\\n\\nThe description.\\n"),
    }

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        name = "tinyext-1.0-py3-none-any.whl"
        now = time.localtime()[:6]
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                             zipfile.ZIP_DEFLATED) as out:
            record = []
            for path in reversed(sorted(FILES)):
                info = zipfile.ZipInfo(path, now)
                info.external_attr = 0o100600 << 16
                out.writestr(info, FILES[path], zipfile.ZIP_DEFLATED)
                digest = base64.urlsafe_b64encode(hashlib.sha256(FILES[path]).digest())
                record.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(FILES[path])}")
            record.append("tinyext-1.0.dist-info/RECORD,,")
            out.writestr("tinyext-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
        return name
""")

PYPROJECT = textwrap.dedent("""
    [build-system]
    requires = []
    build-backend = "tinybackend"
    backend-path = ["."]
""")


def make_sdist(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sdist = folder / "tinyext-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, text in {
            "pyproject.toml": PYPROJECT,
            "tinybackend.py": BACKEND,
            "PKG-INFO": "Metadata-Version: 2.1\nName: tinyext\nVersion: 1.0\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(f"tinyext-1.0/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sdist


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def declaration(sdist: Path, **extra: object) -> dict:
    return {
        "tinyext": {
            "version": "1.0",
            "sdist_sha256": sha256(sdist),
            "label": "test1",
            "drop_requires": ["notebook<7"],
            "reason": "a test",
            **extra,
        }
    }


def write_yaml(folder: Path, data: dict) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / declarations.DECLARATIONS
    path.write_text(yaml.safe_dump(data))
    return path


class OfflineIndex(PackageIndex):
    """The index's answer for the tiny sdist, without a network (counts what is asked)."""

    def __init__(self, files: tuple[IndexFile, ...] = ()) -> None:
        super().__init__(INDEX)
        self.answer = files
        self.asked: list[str] = []

    def files(self, project: str) -> tuple[IndexFile, ...]:
        self.asked.append(project)
        return self.answer


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[declarations.LocalWheel, Path]:
    sdist = make_sdist(CacheLayout(tmp_path / "cache").sdists)
    path = write_yaml(tmp_path / "images" / "x", declaration(sdist))
    return declarations.load(path)[0], sdist


def test_build_applies_the_edit_and_relabels(tiny, tmp_path: Path) -> None:
    wheel, sdist = tiny
    out = wheelbuild.build(wheel, sdist, tmp_path / "out", OfflineIndex(), exclude_newer="")
    assert out.name == "tinyext-1.0+test1-py3-none-any.whl"
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        metadata = archive.read("tinyext-1.0+test1.dist-info/METADATA").decode()
        record = archive.read("tinyext-1.0+test1.dist-info/RECORD").decode()
        infos = archive.infolist()
    assert "tinyext-1.0+test1.data/data/share/tiny/ext.json" in names
    assert not [n for n in names if n.startswith("tinyext-1.0.")]
    record_name = "tinyext-1.0+test1.dist-info/RECORD"
    rest = sorted(set(names) - {record_name}, key=lambda n: (".dist-info/" in n, n))
    assert names == [*rest, record_name]
    assert "\nVersion: 1.0+test1\n" in metadata
    assert "Version: 9 (a continuation line" in metadata  # untouched
    assert "notebook" not in metadata
    assert "Requires-Dist: requests>=2\n" in metadata
    assert metadata.endswith("\n\nThe description.\n")
    assert {i.date_time for i in infos} == {wheeledit.ZIP_TIME}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    # RECORD lists every other file with its hash, so installers accept the edited wheel.
    assert len(record.splitlines()) == len(names)
    assert "tinyext-1.0+test1.dist-info/METADATA,sha256=" in record
    assert not list((tmp_path / "out").glob("*.partial"))


def test_building_twice_gives_the_same_bytes(tiny, tmp_path: Path) -> None:
    wheel, sdist = tiny
    first = wheelbuild.build(wheel, sdist, tmp_path / "a", OfflineIndex(), exclude_newer="")
    # The backend stamps the current time, in zip's 2 s steps: build again in the next step.
    step = int(time.time()) // 2
    assert wait_until(lambda: int(time.time()) // 2 > step, 3, interval=0.05)
    second = wheelbuild.build(wheel, sdist, tmp_path / "b", OfflineIndex(), exclude_newer="")
    assert first.name == second.name
    assert sha256(first) == sha256(second)


def test_add_requires(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "s")
    path = write_yaml(
        tmp_path / "x",
        declaration(sdist, drop_requires=[], add_requires=["notebook>=7", "tornado"]),
    )
    wheel = declarations.load(path)[0]
    out = wheelbuild.build(wheel, sdist, tmp_path / "out", OfflineIndex(), exclude_newer="")
    with zipfile.ZipFile(out) as archive:
        metadata = archive.read("tinyext-1.0+test1.dist-info/METADATA").decode()
    assert (
        "Requires-Dist: pytest; extra == 'test'\nRequires-Dist: notebook>=7\n"
        "Requires-Dist: tornado\n"
    ) in metadata
    assert "Requires-Dist: notebook <7\n" in metadata


def test_an_edit_that_does_not_apply_fails_and_leaves_nothing(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "s")
    path = write_yaml(tmp_path / "x", declaration(sdist, drop_requires=["notebook<6"]))
    wheel = declarations.load(path)[0]
    with pytest.raises(
        HubImagesError,
        match=r"drop_requires 'notebook<6' is not a requirement "
        r"of the built wheel \(it has: notebook <7, ",
    ):
        wheelbuild.build(wheel, sdist, tmp_path / "out", OfflineIndex(), exclude_newer="")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_replace_text_edits_the_matching_files(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "s")
    path = write_yaml(
        tmp_path / "x",
        declaration(
            sdist,
            replace_text=[
                {"files": "*/share/tiny/*.json", "old": "{}", "new": '{"offline": true}'}
            ],
        ),
    )
    out = wheelbuild.build(
        declarations.load(path)[0], sdist, tmp_path / "out", OfflineIndex(), exclude_newer=""
    )
    with zipfile.ZipFile(out) as archive:
        edited = archive.read("tinyext-1.0+test1.data/data/share/tiny/ext.json")
        record = archive.read("tinyext-1.0+test1.dist-info/RECORD").decode()
        untouched = archive.read("tinyext/__init__.py")
    assert edited == b'{"offline": true}\n'
    assert untouched == b"VALUE = 1\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(edited).digest()).rstrip(b"=").decode()
    assert f"share/tiny/ext.json,sha256={digest},{len(edited)}" in record


def test_a_text_edit_that_changes_nothing_fails_and_leaves_nothing(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "s")
    path = write_yaml(
        tmp_path / "x",
        declaration(
            sdist, replace_text=[{"files": "*.json", "old": "https://cdn.invalid/x.css", "new": ""}]
        ),
    )
    with pytest.raises(
        HubImagesError,
        match=r"tinyext: replace_text: no file matching '\*.json' "
        r"contains 'https://cdn.invalid/x.css'",
    ):
        wheelbuild.build(
            declarations.load(path)[0], sdist, tmp_path / "out", OfflineIndex(), exclude_newer=""
        )
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(tiny, tmp_path: Path, monkeypatch) -> None:
    wheel, sdist = tiny

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)  # as files.write_atomically calls it
    with pytest.raises(OSError, match="disk full"):
        wheelbuild.build(wheel, sdist, tmp_path / "out", OfflineIndex(), exclude_newer="")
    assert list((tmp_path / "out").iterdir()) == []


def test_unknown_key_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "x",
        {
            "tinyext": {
                "version": "1.0",
                "sdist_sha256": "0" * 64,
                "label": "a",
                "reason": "r",
                "drop_requires": ["x"],
                "drop_require": ["y"],
            }
        },
    )
    with pytest.raises(HubImagesError) as error:
        declarations.load(path)
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message or "local-wheels.yaml" in message
    assert "tinyext: unknown key 'drop_require'; allowed: add_requires, drop_requires" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"version": "1.0+x"}, r"key 'version': give the sdist's version"),
        ({"sdist_sha256": "ABC"}, r"key 'sdist_sha256': must be 64 lowercase hex"),
        ({"label": "Sk-1"}, r"key 'label': must be a local version label"),
        ({"reason": None}, r"key 'reason' is missing"),
        ({"drop_requires": "notebook<7"}, r"key 'drop_requires': must be a list"),
        (
            {"replace_text": {"files": "*", "old": "a", "new": ""}},
            r"key 'replace_text': must be a "
            r"list of mappings",
        ),
        ({"replace_text": [{"files": "*", "old": "a"}]}, r"key 'replace_text': must be a list"),
        ({"replace_text": [{"files": "*", "old": "", "new": "b"}]}, r"old must not be empty"),
    ],
)
def test_bad_declarations(tmp_path: Path, change: dict, expected: str) -> None:
    entry = {
        "version": "1.0",
        "sdist_sha256": "0" * 64,
        "label": "a",
        "reason": "r",
        "drop_requires": ["x"],
        **change,
    }
    path = write_yaml(
        tmp_path / "x", {"tinyext": {k: v for k, v in entry.items() if v is not None}}
    )
    with pytest.raises(HubImagesError, match=expected):
        declarations.load(path)


def test_fetch_serves_the_locked_local_wheel_building_it_when_missing(tiny, tmp_path: Path) -> None:
    """A fresh machine: the lock pins the local wheel, the cache has only the sdist."""
    wheel, sdist = tiny
    cache = CacheLayout(tmp_path / "cache")
    index = OfflineIndex(
        (
            IndexFile(
                sdist.name, wheel.sdist_sha256, "https://index.invalid/", "2024-01-02T03:04:05.678Z"
            ),
        )
    )
    expected = sha256(wheelbuild.build(wheel, sdist, tmp_path / "elsewhere", index))
    assert index.asked == ["tinyext"]  # the build took its --exclude-newer from the index
    lock = tmp_path / "images" / "x" / "requirements.lock"
    lock.write_text(f"tinyext==1.0+test1 \\\n    --hash=sha256:{expected}\n")
    catalog = LocalWheelCatalog.of_images(tmp_path / "images", index, cache)

    (path,) = fetch(read_lock(lock), SETTINGS, cache.wheels, index, catalog)
    assert path == cache.local_wheels / "tinyext-1.0+test1-py3-none-any.whl"
    assert sha256(path) == expected
    (again,) = fetch(read_lock(lock), SETTINGS, cache.wheels, index, catalog)  # from the folder
    assert again == path
    lock.write_text(f"tinyext==1.0+test1 \\\n    --hash=sha256:{'0' * 64}\n")
    with pytest.raises(HubImagesError, match=r"not the locked one.*rerun `invoke lock`"):
        fetch(read_lock(lock), SETTINGS, cache.wheels, index, catalog)
    assert not list(path.parent.glob("*.partial"))


def test_find_links_folder_holds_only_the_images_wheels(tiny, tmp_path: Path) -> None:
    wheel, _ = tiny
    cache = CacheLayout(tmp_path / "cache")
    stray = cache.local_wheels / "other-2.0+x1-py3-none-any.whl"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not ours")
    index = OfflineIndex()
    folder = LocalWheelCatalog((wheel,), index, cache).find_links_for_lock("x")
    assert folder is not None
    assert [p.name for p in folder.iterdir()] == ["tinyext-1.0+test1-py3-none-any.whl"]
    assert LocalWheelCatalog((), index, cache).find_links_for_lock("y") is None


@pytest.mark.parametrize(
    ("uploaded", "cut_off"),
    [
        ("2014-06-16T11:18:57Z", wheelbuild.PYTHON_RELEASED[sys.version_info[:2]]),
        ("2026-06-01T15:41:01Z", "2026-06-01T15:41:01Z"),
        ("", ""),
    ],
)
def test_build_dependencies_are_no_older_than_the_building_python(
    tiny, uploaded: str, cut_off: str
) -> None:
    """An sdist of 2014 builds with the setuptools of the day the host's Python came out (the
    setuptools of 2014 does not run on it); a newer one with those of its upload."""
    wheel, _ = tiny
    index = OfflineIndex((IndexFile("tiny.tar.gz", wheel.sdist_sha256, "x", uploaded),))
    assert wheelbuild.upload_time(wheel, index) == cut_off
