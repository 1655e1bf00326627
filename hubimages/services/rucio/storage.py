"""The deployment's storage: Debian's Apache serving two RSE folders over WebDAV and HTTPS
(services/rucio/webdav.conf), one port each, on the network gateway. It authorises by Rucio
account and path (services/rucio/storage-authz.lua): accounts show a client certificate of the
site CA or, with an identity provider, a bearer token (mod_auth_openidc) whose subject
token-accounts.map maps to an account."""

from __future__ import annotations

import os
import secrets
import signal
from dataclasses import dataclass, field
from pathlib import Path

from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError
from hubimages.services.rucio.host import SETUP_HINT, give_to, is_root, pid_alive, run, wait_for

APACHE = "/usr/sbin/apache2"
SERVICE_USER = "www-data"
CONFIG = "webdav.conf"
PID_FILE = "apache.pid"  # where webdav.conf puts it, in `files`
THROTTLE_KIB_S = 16  # webdav.conf's rate-limit under -D THROTTLED
MAX_UPLOAD_BYTES = 1 << 30  # one upload; Apache refuses a larger body with 413
TOKEN_MAP = "token-accounts.map"  # noqa: S105 - a file name


@dataclass(frozen=True)
class TokenTrust:
    """Whose bearer tokens the storage accepts, and the accounts their subjects are."""

    issuer: str
    audience: str
    jwks_uri: str
    accounts: dict[str, str] = field(default_factory=dict)  # token subject -> Rucio account


def stop_apache(pid_file: Path, timeout: float = 20) -> None:
    """SIGTERM: Apache stops at once and cuts open connections (as when a storage node dies)."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return  # not running
    if not wait_until(lambda: not pid_alive(pid), timeout, interval=0.05):
        raise HubImagesError(f"Apache WebDAV (pid {pid}) did not stop within {timeout} s")


@dataclass
class WebDavStorage:
    config_dir: Path  # services/rucio: webdav.conf and its Lua hook
    files: Path  # Apache's own files
    roots: tuple[Path, Path]  # the RSEs' folders
    address: str
    ports: tuple[int, int]
    cert: Path
    key: Path
    ca: Path  # the site CA: client certificates it signed are accepted
    tokens: TokenTrust | None = None

    def url(self, index: int) -> str:
        return f"https://{self.address}:{self.ports[index]}/"

    def config_variables(self) -> dict[str, str]:
        """The environment webdav.conf reads (see its header)."""
        variables = {
            "SITE_CONFIG": str(self.config_dir),
            "STORAGE_FILES": str(self.files),
            "SITE_CERT": str(self.cert),
            "SITE_KEY": str(self.key),
            "SITE_ADDR": self.address,
            "SITE_CA": str(self.ca),
            "MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        }
        if self.tokens is not None:
            variables.update(
                OIDC_ISSUER=self.tokens.issuer,
                OIDC_AUDIENCE=self.tokens.audience,
                OIDC_JWKS_URI=self.tokens.jwks_uri,
                OIDC_PASSPHRASE=secrets.token_urlsafe(24),
            )
        for number, (port, root) in enumerate(zip(self.ports, self.roots, strict=True), 1):
            variables.update({f"RSE{number}_PORT": str(port), f"RSE{number}_ROOT": str(root)})
        return variables

    def start(self, throttled: bool = False) -> None:
        """Serve the RSE folders; `throttled`: GETs at THROTTLE_KIB_S (downloads take a while)."""
        if not Path(APACHE).is_file():
            raise HubImagesError(f"Apache is not installed ({APACHE}): {SETUP_HINT}")
        for folder in (self.files, *self.roots):
            folder.mkdir(parents=True, exist_ok=True)
        if self.tokens is not None:
            (self.files / TOKEN_MAP).write_text(
                "".join(f"{sub} {account}\n" for sub, account in self.tokens.accounts.items())
            )
        give_to(SERVICE_USER, self.files, *self.roots)
        env = {**os.environ, **self.config_variables()}
        defines = [
            *(["-D", "AS_ROOT"] if is_root() else []),
            *(["-D", "THROTTLED"] if throttled else []),
            *(["-D", "OIDC"] if self.tokens is not None else []),
        ]
        log = self.files / "error.log"
        run(
            [APACHE, "-f", str(self.config_dir / CONFIG), *defines, "-k", "start"],
            f"starting Apache WebDAV (log: {log})",
            env=env,
        )
        # `-k start` returns once Apache forked away; its pid file follows a moment later.
        if not wait_until((self.files / PID_FILE).is_file, 10, interval=0.02):
            raise HubImagesError(f"Apache WebDAV did not start: see {log}")
        for index in range(len(self.ports)):
            wait_for(self.url(index), self.ca, "Apache WebDAV", self.running, log, timeout=20)

    def running(self) -> bool:
        try:
            return pid_alive(int((self.files / PID_FILE).read_text().strip()))
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        stop_apache(self.files / PID_FILE)
