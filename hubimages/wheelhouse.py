"""Fetch the locked wheels on the host, once, and serve them to builds on the build network.

Build containers cannot reach an index: the host downloads exactly the files whose hashes the
locks name into a cache shared by all images, then serves a find-links page of them and the
locks over HTTP on the gateway of an internal Docker network.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from hubimages.errors import HubImagesError
from hubimages.locks import LockedRequirement, file_sha256
from hubimages.matrix import Settings

log = logging.getLogger(__name__)

FETCH_WORKERS = 8
FETCH_RETRIES = 3


@dataclass(frozen=True)
class WheelFile:
    filename: str
    sha256: str
    url: str


def target_tags(settings: Settings) -> list[Tag]:
    """Wheel tags the image's Python accepts, best first (glibc of bookworm is 2.36)."""
    major, minor = (int(x) for x in settings.python.split("."))
    arch = settings.machine
    platforms = [f"manylinux_2_{v}_{arch}" for v in range(36, 16, -1)]
    platforms += [f"manylinux2014_{arch}", f"linux_{arch}"]
    return [*cpython_tags((major, minor), platforms=platforms),
            *compatible_tags((major, minor), platforms=platforms)]


def _ssl_context() -> ssl.SSLContext:
    # The system store, not certifi: the host may sit behind an intercepting proxy.
    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("PIP_CERT")
    return ssl.create_default_context(cafile=cafile)


@cache
def _project_files(index_url: str, project: str) -> tuple[dict, ...]:
    url = f"{index_url.rstrip('/')}/{project}/"
    request = urllib.request.Request(  # noqa: S310
        url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    # The index URL comes from the matrix (https by default), not from user input at run time.
    with urllib.request.urlopen(request, context=_ssl_context(), timeout=60) as response:  # noqa: S310
        return tuple(json.load(response)["files"])


def choose_wheel(req: LockedRequirement, files: Iterable[dict], tags: list[Tag]) -> WheelFile:
    """The locked file that suits the image best: hash in the lock, wheel, best tag."""
    rank = {tag: i for i, tag in enumerate(tags)}
    best: tuple[int, WheelFile] | None = None
    for entry in files:
        sha = entry.get("hashes", {}).get("sha256")
        name = entry["filename"]
        if sha not in req.hashes or not name.endswith(".whl"):
            continue
        _, _, _, file_tags = parse_wheel_filename(name)
        score = min((rank[t] for t in file_tags if t in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, WheelFile(name, sha, entry["url"]))
    if best is None:
        raise HubImagesError(
            f"{req.name}=={req.version}: no wheel for this platform among the locked hashes "
            "(sdist-only?); pin a version with wheels and rerun `invoke lock`")
    return best[1]


def fetch(requirements: Iterable[LockedRequirement], settings: Settings,
          cache: Path) -> list[Path]:
    """Download each locked wheel once into the shared cache; verify every hash."""
    tags = target_tags(settings)
    reqs = {r.normalized: r for r in requirements}
    cache.mkdir(parents=True, exist_ok=True)

    def one(req: LockedRequirement) -> Path:
        if req.lock is not None and "+" in req.version:  # maybe a wheel built on the host
            from hubimages.localwheels import wheel_for

            local = wheel_for(req.name, req.version, req.hashes, req.lock.parent.parent,
                              settings.index_url, cache.parent)
            if local is not None:
                return local
        files = _project_files(settings.index_url, req.normalized)
        wheel = choose_wheel(req, files, tags)
        target = cache / wheel.filename
        if target.is_file() and file_sha256(target) == wheel.sha256:
            return target
        _download(wheel, target)
        return target

    with ThreadPoolExecutor(FETCH_WORKERS) as pool:
        paths = list(pool.map(one, reqs.values()))
    return paths


def _download(wheel: WheelFile, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    for attempt in range(1, FETCH_RETRIES + 1):
        try:
            digest = hashlib.sha256()
            with urllib.request.urlopen(  # noqa: S310 - URLs from the index's answer
                    wheel.url, context=_ssl_context(), timeout=120) as resp, \
                    partial.open("wb") as out:
                while chunk := resp.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != wheel.sha256:
                raise HubImagesError(f"{wheel.filename}: sha256 mismatch against the lock")
            partial.rename(target)  # atomic: the cache never holds a half file
            log.debug("fetched %s", wheel.filename)
            return
        except OSError as exc:
            partial.unlink(missing_ok=True)
            if attempt == FETCH_RETRIES:
                raise HubImagesError(f"downloading {wheel.filename} failed: {exc}") from None
        except HubImagesError:
            partial.unlink(missing_ok=True)
            raise


class WheelServer:
    """Serve /wheels/ (a find-links page of chosen files) and /locks/<image>.txt."""

    def __init__(self, host: str, port: int) -> None:
        self.wheels: dict[str, Path] = {}
        self.locks: dict[str, bytes] = {}
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> WheelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, image: str, lock_text: bytes, wheels: Iterable[Path]) -> None:
        self.locks[image] = lock_text
        self.wheels.update({p.name: p for p in wheels})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urllib.parse.unquote(self.path.split("?", 1)[0])
                if path in ("/wheels", "/wheels/"):
                    links = "".join(f'<a href="{urllib.parse.quote(n)}">{html.escape(n)}</a>\n'
                                    for n in sorted(server.wheels))
                    self._send(f"<html><body>\n{links}</body></html>".encode(), "text/html")
                elif path.startswith("/wheels/") and path[8:] in server.wheels:
                    self._send(server.wheels[path[8:]].read_bytes(), "application/zip")
                elif path.startswith("/locks/") and path[7:].removesuffix(".txt") in server.locks:
                    self._send(server.locks[path[7:].removesuffix(".txt")], "text/plain")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: object) -> None:
                log.debug("wheelhouse: " + fmt, *args)

        return Handler
