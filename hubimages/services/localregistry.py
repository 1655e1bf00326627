"""A local OCI registry (Debian's docker-registry) on 127.0.0.1 with a config of our own.

For trying a release on one machine (`invoke registry`) and for the publish tests. The package's
default config asks for htpasswd auth and listens on every address; ours does neither unless told.
"""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hubimages.core.ports import free_port
from hubimages.core.tools import require
from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError

BINARY = "docker-registry"


@dataclass
class LocalRegistry:
    root: Path  # config, log and storage live here
    port: int = field(default_factory=free_port)
    htpasswd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def log_path(self) -> Path:
        return self.root / "registry.log"

    @property
    def pid_path(self) -> Path:
        return self.root / "registry.pid"

    def config(self) -> dict[str, object]:
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "warn", "fields": {"service": "registry"}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        }
        if self.htpasswd is not None:
            config["auth"] = {"htpasswd": {"realm": "hubimages", "path": str(self.htpasswd)}}
        return config

    def start(self, timeout: float = 20) -> None:
        binary = require(BINARY, "docker-registry")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(yaml.safe_dump(self.config()))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_path.write_text(str(self.process.pid))
        if wait_until(self._started, timeout):
            return
        self.stop()
        raise HubImagesError(f"{BINARY} on {self.host} did not answer within {timeout:.0f} s")

    def _started(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HubImagesError(
                f"{BINARY} on {self.host} exited at start: see {self.log_path} (port taken?)"
            )
        return self.answers()

    def answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True  # 401 when auth is on: it is up
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=20)
        elif self.pid_path.is_file():  # started by an earlier `invoke registry`
            try:
                os.killpg(int(self.pid_path.read_text()), sig)
            except (ProcessLookupError, ValueError):
                pass
        self.process = None
        self.pid_path.unlink(missing_ok=True)

    def tags(self, name: str) -> list[str]:
        """Tags as stored on disk: readable with the registry stopped."""
        folder = self.storage / "docker/registry/v2/repositories" / name / "_manifests/tags"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
