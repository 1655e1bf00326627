"""The Rucio server's venv: exactly services/rucio/requirements.lock, hash-checked, from the
project's package index, under .cache/rucio/. Made once, again only when the lock changes."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import sys
import time
from pathlib import Path

from hubimages.services.rucio.host import run

log = logging.getLogger(__name__)
STAMP = "requirements.lock.sha256"


def server_venv(venv: Path, lock: Path, index_url: str) -> Path:
    """The venv for `lock` (made or remade when its stamp differs); returns its folder."""
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = venv / STAMP
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two starts at once (a test run and `invoke rucio-site`) must not build one venv twice.
    with (venv.parent / f".{venv.name}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == wanted:
            return venv
        log.info("rucio: installing the server into %s (once per lock change)", venv)
        started = time.monotonic()
        stamp.unlink(missing_ok=True)
        run([sys.executable, "-m", "venv", "--clear", str(venv)], "making the Rucio server venv")
        run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-cache-dir",
                "--require-hashes",
                "--index-url",
                index_url,
                "-r",
                str(lock),
            ],
            f"installing {lock.name} into the Rucio server venv",
            timeout=900,
        )
        stamp.write_text(wanted)
        log.info("rucio: server venv ready in %.0f s", time.monotonic() - started)
    return venv
