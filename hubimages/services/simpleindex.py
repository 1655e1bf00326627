"""A package index of a site's own (PEP 503 "simple" pages, static), for sessions to
`pip install` from, as a lab that runs its own index would offer.

`invoke e2e` serves a wheel it makes on the docker network of the user servers (which reach
nothing else) and installs it from a notebook with `%pip install --index-url`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from packaging.utils import canonicalize_name

from hubimages.core.files import write_atomically
from hubimages.core.httpd import BackgroundServer

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PurePythonWheel:
    """A one-module wheel: `project`, `version`, the module's source."""

    project: str
    version: str
    source: str

    @property
    def module(self) -> str:
        return canonicalize_name(self.project).replace("-", "_")

    @property
    def filename(self) -> str:
        return f"{self.module}-{self.version}-py3-none-any.whl"

    def files(self) -> dict[str, bytes]:
        info = f"{self.module}-{self.version}.dist-info"
        return {
            f"{self.module}.py": self.source.encode(),
            f"{info}/METADATA": (
                f"Metadata-Version: 2.1\nName: {self.project}\nVersion: {self.version}\n"
            ).encode(),
            f"{info}/WHEEL": (
                b"Wheel-Version: 1.0\nGenerator: hubimages\n"
                b"Root-Is-Purelib: true\nTag: py3-none-any\n"
            ),
        }

    def write(self, folder: Path) -> Path:
        files = self.files()
        record_name = f"{self.module}-{self.version}.dist-info/RECORD"
        rows = [
            f"{path},sha256={_urlsafe_sha256(data)},{len(data)}" for path, data in files.items()
        ]
        files[record_name] = ("\n".join([*rows, f"{record_name},,"]) + "\n").encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path, data in files.items():
                archive.writestr(zipfile.ZipInfo(path, ZIP_TIME), data)
        target = folder / self.filename
        write_atomically(target, buffer.getvalue())
        return target


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_index(root: Path, wheels: list[Path]) -> None:
    """root/simple/index.html and root/simple/<project>/index.html linking to root/files/."""
    projects: dict[str, list[Path]] = {}
    for wheel in wheels:
        projects.setdefault(canonicalize_name(wheel.name.split("-", 1)[0]), []).append(wheel)
    (root / "simple").mkdir(parents=True, exist_ok=True)
    write_atomically(
        root / "simple" / "index.html", _page([(f"{name}/", name) for name in sorted(projects)])
    )
    for name, files in projects.items():
        (root / "simple" / name).mkdir(exist_ok=True)
        links = [
            (f"../../files/{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}", w.name)
            for w in files
        ]
        write_atomically(root / "simple" / name / "index.html", _page(links))


def _page(links: list[tuple[str, str]]) -> bytes:
    body = "\n".join(
        f'<a href="{html.escape(href)}">{html.escape(text)}</a><br>' for href, text in links
    )
    return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n".encode()


@contextmanager
def serving(root: Path, host: str, port: int = 0) -> Iterator[str]:
    """Serve `root` (simple/ and files/) on host:port (0: a free one) while inside; the index
    URL (`pip install --index-url`)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = BackgroundServer(host, port, handler, "simple-index")  # type: ignore[arg-type]
    server.start()
    try:
        yield f"http://{host}:{server.port}/simple/"
    finally:
        server.stop()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are pip's, not worth a line each
