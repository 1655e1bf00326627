"""Serve the fetched wheels, the locks and the build files to build containers, on the build
network's gateway:

    /wheels/                 a find-links page of every wheel added so far
    /wheels/<file>           one wheel
    /locks/<image>.txt       the lock of an image being built
    /files/<folder>/<path>   a file of an image folder being built, or of a repository folder
                             its build_folders declare (under that path); a folder as a tar
    http://<mirror>/...      as an HTTP proxy (APT_PROXY): GETs under the Debian mirrors only

Build containers reach this server and nothing else (build.engine's internal network). Build
files are fetched by the image's RUN steps (`with-build-files`), used and deleted in the same
step, so none of them lands in a layer. apt reaches Debian's mirrors through the proxy and
checks every file against the signed release files itself.
"""

from __future__ import annotations

import html
import io
import logging
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType

from hubimages.core.files import folder_files
from hubimages.core.httpd import BackgroundServer

log = logging.getLogger(__name__)

Answer = tuple[bytes, str]  # body, content type
TAR = "application/x-tar"


class WheelServer:
    """A context manager: bound and serving inside `with`, shut down and closed after it."""

    def __init__(self, host: str, port: int, mirrors: Iterable[str] = ()) -> None:
        self.host = host
        self.port = port
        # Plain-http mirrors only: apt sends https sources through CONNECT, not this proxy.
        self.mirrors = tuple(f"{m.rstrip('/')}/" for m in mirrors if m.startswith("http://"))
        self._wheels: dict[str, Path] = {}
        self._locks: dict[str, bytes] = {}
        self._folders: dict[str, dict[str, Path]] = {}  # folder -> served path -> on disk
        self._guard = threading.Lock()
        self._server: BackgroundServer | None = None

    @property
    def port_bound(self) -> int:
        if self._server is None:
            raise RuntimeError("the wheel server is not running")
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port_bound}"

    def __enter__(self) -> WheelServer:
        self._server = BackgroundServer(self.host, self.port, self._handler(), "wheel-server")
        self._server.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def add(
        self,
        image: str,
        lock_text: bytes,
        wheels: Iterable[Path],
        folders: Mapping[str, Mapping[str, Path]] | None = None,
    ) -> None:
        """An image's lock and wheels; the build files of its recipe folders, by folder name:
        {"": the folder itself, "data/sdc1": a repository folder its matrix entry names}."""
        with self._guard:
            self._locks[image] = lock_text
            self._wheels.update({p.name: p for p in wheels})
            self._folders.update({name: dict(files) for name, files in (folders or {}).items()})

    def lock_url(self, image: str) -> str:
        return f"{self.url}/locks/{image}.txt"

    @property
    def wheels_url(self) -> str:
        return f"{self.url}/wheels/"

    def files_url(self, folder: str) -> str:
        return f"{self.url}/files/{folder}/"

    @property
    def apt_proxy(self) -> str:
        return f"{self.url}/"

    def proxied(self, url: str) -> bool:
        """Whether a proxy request may go upstream: only below a configured Debian mirror."""
        return ".." not in url.split("/") and url.startswith(self.mirrors)

    def answer(self, path: str) -> Answer | None:
        """What a GET of `path` returns, or None for 404."""
        section, _, rest = path.lstrip("/").partition("/")
        with self._guard:
            if section == "wheels" and rest == "":
                return self._page(), "text/html"
            if section == "wheels" and rest in self._wheels:
                return self._wheels[rest].read_bytes(), "application/zip"
            if section == "locks" and rest.removesuffix(".txt") in self._locks:
                return self._locks[rest.removesuffix(".txt")], "text/plain"
            if section == "files":
                folder, _, inner = rest.partition("/")
                return _served_file(self._folders.get(folder, {}), inner)
        return None

    def _page(self) -> bytes:
        links = "".join(
            f'<a href="{urllib.parse.quote(n)}">{html.escape(n)}</a>\n'
            for n in sorted(self._wheels)
        )
        return f"<html><body>\n{links}</body></html>".encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("http://"):
                    self._proxy()
                    return
                found = server.answer(urllib.parse.unquote(self.path.split("?", 1)[0]))
                if found is None:
                    self.send_error(404)
                    return
                body, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _proxy(self) -> None:
                if not server.proxied(self.path):
                    self.send_error(403, "only the Debian mirrors of build-matrix.yaml")
                    return
                try:
                    upstream = urllib.request.urlopen(self.path, timeout=60)  # noqa: S310
                except urllib.error.HTTPError as exc:
                    self.send_error(exc.code)
                    return
                except OSError:
                    self.send_error(502, "the Debian mirror did not answer")
                    return
                with upstream:
                    self.send_response(upstream.status)
                    for header in ("Content-Type", "Content-Length", "Last-Modified"):
                        if upstream.headers.get(header):
                            self.send_header(header, upstream.headers[header])
                    self.end_headers()
                    while chunk := upstream.read(1 << 16):
                        self.wfile.write(chunk)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("wheel server: " + format, *args)

        return Handler


def _served_file(files: Mapping[str, Path], inner: str) -> Answer | None:
    """`inner` from the build folder whose served path is its longest prefix; a declared
    folder may be fetched whole, the image folder itself only file by file or by subfolder."""
    for prefix in sorted(files, key=len, reverse=True):
        if prefix and (inner == prefix or inner.startswith(prefix + "/")):
            return _build_file(files[prefix], inner[len(prefix) :].lstrip("/"), whole=True)
    return _build_file(files[""], inner) if "" in files and inner else None


def _build_file(root: Path, inner: str, whole: bool = False) -> Answer | None:
    """A file of the folder, or a subfolder as a tar; never anything outside the folder."""
    target = (root / inner).resolve()
    if not target.is_relative_to(root.resolve()) or not (inner or whole):
        return None
    if target.is_file():
        return target.read_bytes(), "application/octet-stream"
    if not target.is_dir():
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in folder_files(target):
            archive.add(path, arcname=path.relative_to(target).as_posix(), recursive=False)
    return buffer.getvalue(), TAR
