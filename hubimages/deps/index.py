"""The package index (PyPI's simple JSON API by default), as the host reaches it.

Build containers never reach an index; only the host asks it what files a project has and
downloads them, verifying each against the sha256 the lock or a declaration names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hubimages.errors import HubImagesError

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 3
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class IndexFile:
    filename: str
    sha256: str
    url: str
    upload_time: str = ""


def _ssl_context() -> ssl.SSLContext:
    # The system store, not certifi: the host may sit behind an intercepting proxy.
    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("PIP_CERT")
    return ssl.create_default_context(cafile=cafile)


class PackageIndex:
    """What files a project has on the index (asked once per project), and downloads."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._files: dict[str, tuple[IndexFile, ...]] = {}
        self._lock = threading.Lock()

    def files(self, project: str) -> tuple[IndexFile, ...]:
        with self._lock:
            cached = self._files.get(project)
        if cached is None:
            cached = self._ask(project)
            with self._lock:
                self._files[project] = cached
        return cached

    def _ask(self, project: str) -> tuple[IndexFile, ...]:
        url = f"{self.url}/{project}/"
        request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})  # noqa: S310
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                # The index URL comes from the matrix (https by default), not from user input.
                with urllib.request.urlopen(  # noqa: S310
                    request, context=_ssl_context(), timeout=60
                ) as response:
                    data = json.load(response)
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise HubImagesError(
                        f"project {project!r} is not on {self.url} (HTTP 404): check its name "
                        "in requirements.in and the lock, or settings.index_url"
                    ) from None
                if exc.code < 500 or attempt == DOWNLOAD_ATTEMPTS:
                    raise HubImagesError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                if attempt == DOWNLOAD_ATTEMPTS:
                    reason = getattr(exc, "reason", exc)
                    raise HubImagesError(f"cannot read {url}: {reason}") from None
            time.sleep(attempt)  # a passing network fault: wait 1 s, then 2 s
        return tuple(
            IndexFile(
                entry["filename"],
                entry.get("hashes", {}).get("sha256", ""),
                entry["url"],
                entry.get("upload-time") or "",
            )
            for entry in data.get("files", ())
        )

    def download(self, file: IndexFile, target: Path) -> None:
        """Fetch a file, check its sha256, then move it in place: never a half file."""
        target.parent.mkdir(parents=True, exist_ok=True)
        # One partial file per thread: two builds may fetch the same wheel at once.
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                digest = self._stream(file, partial)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise HubImagesError(f"downloading {file.filename} failed: {exc}") from None
                continue
            if digest != file.sha256:
                partial.unlink(missing_ok=True)
                raise HubImagesError(
                    f"{file.filename}: the download's sha256 {digest[:12]}... "
                    f"is not the expected {file.sha256[:12]}..."
                )
            partial.rename(target)
            log.debug("fetched %s", file.filename)
            return

    @staticmethod
    def _stream(file: IndexFile, partial: Path) -> str:
        digest = hashlib.sha256()
        with (
            urllib.request.urlopen(  # noqa: S310 - URLs from the index's answer
                file.url, context=_ssl_context(), timeout=120
            ) as response,
            partial.open("wb") as out,
        ):
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()
