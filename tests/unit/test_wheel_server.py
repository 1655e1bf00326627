"""The build's wheel server: its pages, the build files, and the proxy to Debian's mirrors."""

from __future__ import annotations

import http.client
import http.server
import io
import tarfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hubimages.deps.server import WheelServer


class Mirror(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/debian/dists/bookworm/Release":
            body = b"Origin: Debian\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def via_proxy(server: WheelServer, url: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port_bound, timeout=10)
    connection.request("GET", url)  # an absolute URL: what apt sends to an HTTP proxy
    response = connection.getresponse()
    return response.status, response.read()


def test_apt_reaches_the_mirror_and_nothing_else(mirror: str) -> None:
    with WheelServer("127.0.0.1", 0, [f"{mirror}/debian"]) as server:
        assert via_proxy(server, f"{mirror}/debian/dists/bookworm/Release") == (
            200,
            b"Origin: Debian\n",
        )
        assert via_proxy(server, f"{mirror}/debian/dists/nope/Release")[0] == 404
        assert via_proxy(server, f"{mirror}/other/file")[0] == 403
        assert via_proxy(server, f"{mirror}/debian/../other/file")[0] == 403
        assert via_proxy(server, "http://example.invalid/debian/x")[0] == 403


def test_build_files_and_folders_but_nothing_outside(tmp_path: Path) -> None:
    folder = tmp_path / "ml"
    (folder / "src" / "__pycache__").mkdir(parents=True)
    (folder / "strip.py").write_text("print(1)\n")
    (folder / "src" / "a.py").write_text("A = 1\n")
    (folder / "src" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "secret.txt").write_text("no\n")
    with WheelServer("127.0.0.1", 0) as server:
        server.add("ml", b"six==1.17.0\n", [], {"ml": {"": folder}})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        assert opener.open(server.files_url("ml") + "strip.py").read() == b"print(1)\n"
        tar = opener.open(server.files_url("ml") + "src").read()
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            assert archive.getnames() == ["a.py"]
        assert opener.open(server.lock_url("ml")).read() == b"six==1.17.0\n"
        for missing in ("../secret.txt", "nope.txt", ""):
            with pytest.raises(urllib.error.HTTPError):
                opener.open(server.files_url("ml") + missing)


def test_a_declared_repository_folder_is_served_whole_under_its_path(tmp_path: Path) -> None:
    """build_folders: the image's Dockerfile fetches data/sdc1 as one tar; only below it."""
    image, data = tmp_path / "images" / "sdc1", tmp_path / "data" / "sdc1"
    image.mkdir(parents=True)
    data.mkdir(parents=True)
    (image / "Dockerfile").write_text("FROM x\n")
    (data / "cutout.fits").write_bytes(b"SIMPLE")
    (tmp_path / "data" / "other.txt").write_text("not declared\n")
    with WheelServer("127.0.0.1", 0) as server:
        server.add("sdc1", b"", [], {"sdc1": {"": image, "data/sdc1": data}})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        tar = opener.open(server.files_url("sdc1") + "data/sdc1").read()
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            assert archive.getnames() == ["cutout.fits"]
        one = opener.open(server.files_url("sdc1") + "data/sdc1/cutout.fits").read()
        assert one == b"SIMPLE"
        assert opener.open(server.files_url("sdc1") + "Dockerfile").read() == b"FROM x\n"
        for missing in ("data/other.txt", "data", "data/sdc1/../other.txt", "data/sdc1x"):
            with pytest.raises(urllib.error.HTTPError):
                opener.open(server.files_url("sdc1") + missing)
