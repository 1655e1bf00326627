"""Serve the fetched wheels and the locks to build containers, on the build network's gateway.

    /wheels/              a find-links page of every wheel added so far
    /wheels/<file>        one wheel
    /locks/<image>.txt    the lock of an image being built

Build containers reach this server and nothing else (build.engine's internal network).
"""

from __future__ import annotations

import html
import logging
import threading
import urllib.parse
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)


class WheelServer:
    """A context manager: bound and serving inside `with`, shut down and closed after it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._wheels: dict[str, Path] = {}
        self._locks: dict[str, bytes] = {}
        self._guard = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the wheel server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> WheelServer:
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="wheel-server")
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add(self, image: str, lock_text: bytes, wheels: Iterable[Path]) -> None:
        with self._guard:
            self._locks[image] = lock_text
            self._wheels.update({p.name: p for p in wheels})

    def lock_url(self, image: str) -> str:
        return f"{self.url}/locks/{image}.txt"

    @property
    def wheels_url(self) -> str:
        return f"{self.url}/wheels/"

    def _page(self) -> bytes:
        with self._guard:
            names = sorted(self._wheels)
        links = "".join(f'<a href="{urllib.parse.quote(n)}">{html.escape(n)}</a>\n'
                        for n in names)
        return f"<html><body>\n{links}</body></html>".encode()

    def _find(self, path: str) -> tuple[bytes, str] | None:
        with self._guard:
            if path in ("/wheels", "/wheels/"):
                return b"", "page"  # rendered outside the guard
            if path.startswith("/wheels/") and path[8:] in self._wheels:
                return self._wheels[path[8:]].read_bytes(), "application/zip"
            image = path[7:].removesuffix(".txt")
            if path.startswith("/locks/") and image in self._locks:
                return self._locks[image], "text/plain"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urllib.parse.unquote(self.path.split("?", 1)[0])
                found = server._find(path)
                if found is None:
                    self.send_error(404)
                    return
                body, content_type = found
                if content_type == "page":
                    body, content_type = server._page(), "text/html"
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("wheel server: " + format, *args)

        return Handler
