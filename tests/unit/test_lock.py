"""`invoke lock` against a real index on disk (uv reads file:// indexes): all or nothing."""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from hubimages.core.cache import CacheLayout
from hubimages.deps.index import PackageIndex
from hubimages.deps.lockfile import read_lock
from hubimages.deps.resolve import lock_images
from hubimages.errors import HubImagesError
from hubimages.model.load import load_matrix

from .conftest import write_matrix


def digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(index: Path, name: str, version: str, requires_python: str = "") -> None:
    folder = index / name
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    requires = f"Requires-Python: {requires_python}\n" if requires_python else ""
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires}"
    files = {
        f"{name}/__init__.py": b"",
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = (
        "".join(f"{path},sha256={digest(data)},{len(data)}\n" for path, data in files.items())
        + f"{info}/RECORD,,\n"
    )
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as out:
        for path, data in files.items():
            out.writestr(path, data)
        out.writestr(f"{info}/RECORD", record)
    pythons = {}
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            text = next(
                archive.read(n).decode() for n in archive.namelist() if n.endswith("/METADATA")
            )
        pythons[wheel.name] = next(
            (line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Requires-")),
            "",
        )
    links = "".join(
        f'<a href="{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}"'
        + (f' data-requires-python="{html.escape(pythons[w.name])}"' if pythons[w.name] else "")
        + f">{w.name}</a>\n"
        for w in sorted(folder.glob("*.whl"))
    )
    (folder / "index.html").write_text(f"<html><body>{links}</body></html>")


@pytest.fixture
def project(tmp_path: Path, matrix_data: dict) -> Path:
    index = tmp_path / "simple"
    for name, version in (("tinya", "1.0"), ("tinyb", "1.0"), ("tinyb", "2.0"), ("tinyc", "1.0")):
        make_wheel(index, name, version)
    make_wheel(index, "tinyc", "2.0", requires_python=">=3.12")  # not for Python 3.11
    matrix_data["settings"]["index_url"] = index.as_uri()
    matrix_data["images"] = {
        "base": {"source": "bootstrap", "display_name": "Base", "description": "d"},
        "a": {"parent": "base", "display_name": "A", "description": "d"},
        "c": {"parent": "a", "display_name": "C", "description": "d"},
    }
    root = tmp_path / "project"
    write_matrix(root, matrix_data)
    for name, requirements in (("base", "tinya\n"), ("a", "tinyb<2\n"), ("c", "tinyb\n")):
        (root / "images" / name / "requirements.in").write_text(requirements)
    return root


def lock(root: Path, names: list[str]) -> list[Path]:
    matrix = load_matrix(root / "build-matrix.yaml")
    views = [matrix.for_variant(name) for name in matrix.variants]
    return lock_images(
        views, names, PackageIndex(matrix.settings.index_url), CacheLayout(root / ".cache")
    )


def test_locks_follow_the_lineage(project: Path) -> None:
    written = lock(project, [])
    assert [p.parent.name for p in written] == ["base", "a", "c"]
    lock_file = project / "images" / "c" / "requirements.bookworm.lock"
    versions = read_lock(lock_file).versions()
    assert versions == {"tinya": "1.0", "tinyb": "1.0"}  # constrained by a's lock
    text = lock_file.read_text()
    assert text.startswith("# Locked by `invoke lock` for the variant bookworm (Python 3.11")
    assert "-c images/a/requirements.bookworm.lock" in text and str(project) not in text


def two_variants(root: Path) -> None:
    path = root / "build-matrix.yaml"
    data = yaml.safe_load(path.read_text())
    data["variants"]["trixie"] = {"debian": "trixie", "python": "3.13", "glibc": "2.41"}
    path.write_text(yaml.safe_dump(data))


def test_each_variant_is_locked_for_its_python(project: Path) -> None:
    two_variants(project)
    lock(project, [])
    (project / "images" / "c" / "requirements.in").write_text("tinyb\ntinyc\n")
    written = lock(project, ["c"])
    assert [p.name for p in written] == ["requirements.bookworm.lock", "requirements.trixie.lock"]
    folder = project / "images" / "c"
    assert read_lock(folder / "requirements.bookworm.lock").versions()["tinyc"] == "1.0"
    assert read_lock(folder / "requirements.trixie.lock").versions()["tinyc"] == "2.0"
    assert "Python 3.13, glibc 2.41" in (folder / "requirements.trixie.lock").read_text()


def test_a_failure_in_one_variant_changes_no_lock_of_any(project: Path) -> None:
    two_variants(project)
    lock(project, [])
    before = {p: p.read_text() for p in project.glob("images/*/requirements.*.lock")}
    assert len(before) == 6
    (project / "images" / "c" / "requirements.in").write_text("tinyb\ntinyc>=2\n")  # 3.13 only
    with pytest.raises(HubImagesError) as error:
        lock(project, ["c"])
    assert "(variant bookworm; no lock was changed: " in str(error.value)
    assert {p: p.read_text() for p in project.glob("images/*/requirements.*.lock")} == before


def test_a_conflict_below_changes_no_lock(project: Path) -> None:
    lock(project, [])
    before = {p: p.read_text() for p in project.glob("images/*/requirements.bookworm.lock")}
    # a resolves with tinyb<2 as before, but c now needs tinyb>=2: a would be rewritten,
    # then c fails; nothing may change.
    (project / "images" / "a" / "requirements.in").write_text("tinyb<2\ntinya\n")
    (project / "images" / "c" / "requirements.in").write_text("tinyb>=2\n")
    with pytest.raises(HubImagesError) as error:
        lock(project, ["a"])
    message = str(error.value)
    assert message.startswith("images/c: locking failed:")
    assert (
        "no lock was changed: images/a/requirements.bookworm.lock, "
        "images/c/requirements.bookworm.lock" in message
    )
    assert "\n" not in message
    assert {p: p.read_text() for p in project.glob("images/*/requirements.bookworm.lock")} == before


def test_an_sdist_only_requirement_points_to_local_wheels(project: Path) -> None:
    """uv refuses a project with no wheel (builds install wheels only): the error says where
    to declare it, in one line."""
    folder = project.parent / "simple" / "tinysd"
    folder.mkdir()
    (folder / "tinysd-1.0.tar.gz").write_bytes(b"not built here")
    (folder / "index.html").write_text('<a href="tinysd-1.0.tar.gz">tinysd-1.0.tar.gz</a>\n')
    (project / "images" / "a" / "requirements.in").write_text("tinyb<2\ntinysd\n")
    with pytest.raises(HubImagesError) as error:
        lock(project, [])
    message = str(error.value)
    assert message.startswith("images/a: locking failed: tinysd has no wheel on the index")
    assert "declare it in images/a/local-wheels.yaml" in message and "\n" not in message


class Missing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


def test_a_project_missing_from_the_index_is_one_line() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Missing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        index = PackageIndex(f"http://127.0.0.1:{server.server_address[1]}/simple")
        with pytest.raises(
            HubImagesError,
            match=r"project 'nope' is not on http://127\.0\.0\.1:"
            r"\d+/simple \(HTTP 404\): check its name",
        ):
            index.files("nope")
    finally:
        server.shutdown()
