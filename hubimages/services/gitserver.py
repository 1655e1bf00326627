"""A read-only git server over smart HTTP: sessions clone and fetch the workflows' repositories
from this machine, offline (docs/workflows.md).

    python -m hubimages.services.gitserver --root DIR --host ADDRESS --port N

Each request is handed to `git http-backend` (git's own CGI program, as Apache would run it)
for the bare repositories directly in DIR. Only what a clone or a fetch asks for is served:
`GET <repo>.git/info/refs?service=git-upload-pack` and `POST <repo>.git/git-upload-pack`;
anything else (a push above all) is refused. The hub runs it as a service of its own, bound to
the address its user servers reach it on.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

from hubimages.services.orphans import when_orphaned

REPOSITORY = r"/(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]*\.git)"
ADVERTISE = re.compile(REPOSITORY + r"/info/refs$")
UPLOAD = re.compile(REPOSITORY + r"/git-upload-pack$")
CHUNK = 1 << 16


def git_backend() -> list[str]:
    git = shutil.which("git")
    if git is None:
        raise FileNotFoundError("git is not on PATH")
    return [git, "http-backend"]


class GitHandler(BaseHTTPRequestHandler):
    root: Path  # set on the class made by handler_for

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        match = ADVERTISE.match(path)
        if not match or query != "service=git-upload-pack":
            self.send_error(403, "read-only: clone and fetch only")
            return
        self._backend("GET", path, query, b"")

    def do_POST(self) -> None:
        path, _, query = self.path.partition("?")
        if not UPLOAD.match(path):
            self.send_error(403, "read-only: clone and fetch only")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else self._chunked()
        self._backend("POST", path, query, body)

    def _chunked(self) -> bytes:
        """A body sent with Transfer-Encoding: chunked (git does for large requests)."""
        data = b""
        while size := int(self.rfile.readline().strip() or b"0", 16):
            data += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return data

    def _backend(self, method: str, path: str, query: str, body: bytes) -> None:
        if not (self.root / path.split("/")[1]).is_dir():
            self.send_error(404, "no such repository")
            return
        env = {
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": method,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        with subprocess.Popen(
            git_backend(), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        ) as backend:
            assert backend.stdin is not None and backend.stdout is not None
            backend.stdin.write(body)
            backend.stdin.close()
            self._relay(backend.stdout)

    def _relay(self, stream: IO[bytes]) -> None:
        """The CGI answer: its headers (Status: first), then the body as it comes."""
        status, headers = 200, []
        while line := stream.readline().decode("latin-1").rstrip("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        while chunk := stream.read(CHUNK):
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: object) -> None:
        return  # the hub's log is for the hub


def handler_for(root: Path) -> type[GitHandler]:
    return type("RootedGitHandler", (GitHandler,), {"root": root.resolve()})


def main() -> None:
    parser = argparse.ArgumentParser(description="read-only git over smart HTTP")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    git_backend()  # no git: fail at start, not at the first clone
    server = ThreadingHTTPServer((args.host, args.port), handler_for(args.root))
    server.daemon_threads = True
    when_orphaned(server.shutdown)  # the hub gone (even killed): serve_forever returns
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
