"""The site's certificate authority: one per checkout (.cache/site-ca/), made with openssl on
first use. It signs the HTTPS certificates of the local services (the identity provider, the
Rucio server, the WebDAV storages) and the X.509 client certificates of Rucio accounts, so a
session, the hub and the services trust one file: `ca.pem`.

The key stays in a folder of mode 700; certificates are valid for a week (test services are
started again long before that); accounts are the certificates' common names.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hubimages.services.rucio.host import run

CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
DAYS = "7"
CA_DAYS = "30"


@dataclass(frozen=True)
class SiteCA:
    folder: Path

    @property
    def cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def key(self) -> Path:
        return self.folder / "ca.key"

    def ensure(self) -> SiteCA:
        """Make the CA when it is missing (or half made by a crash)."""
        if self.cert.is_file() and self.key.is_file():
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            cert, key = Path(scratch) / "ca.pem", Path(scratch) / "ca.key"
            run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    *CURVE,
                    "-days",
                    CA_DAYS,
                    "-subj",
                    "/O=hubimages/CN=hubimages site CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout",
                    str(key),
                    "-out",
                    str(cert),
                ],
                "openssl: the site CA",
            )
            key.chmod(0o600)
            cert.chmod(0o644)
            os.replace(key, self.key)
            os.replace(cert, self.cert)
        return self

    def issue(self, cert: Path, key: Path, common_name: str, ips: tuple[str, ...] = ()) -> None:
        """A certificate signed by the CA: for a server at `ips`, or (no ips) for a client
        whose identity is `common_name`. The key is written with mode 600."""
        usage = "serverAuth" if ips else "clientAuth"
        cmd = [
            "openssl",
            "req",
            "-x509",
            "-CA",
            str(self.cert),
            "-CAkey",
            str(self.key),
            *CURVE,
            "-days",
            DAYS,
            "-subj",
            f"/O=hubimages/CN={common_name}",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            f"extendedKeyUsage={usage}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ]
        if ips:
            cmd += ["-addext", "subjectAltName=" + ",".join(f"IP:{ip}" for ip in ips)]
        old = os.umask(0o077)
        try:
            run(cmd, f"openssl: certificate for {common_name}")
        finally:
            os.umask(old)

    def client_file(self, path: Path, common_name: str) -> None:
        """Certificate and key in one file (mode 600), as X509_USER_PROXY files are."""
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            cert, key = Path(scratch) / "cert.pem", Path(scratch) / "key.pem"
            self.issue(cert, key, common_name)
            combined = Path(scratch) / "combined.pem"
            fd = os.open(combined, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(cert.read_bytes() + key.read_bytes())
            os.replace(combined, path)
